package docker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The nfnetlink_queue protocol, from linux/netfilter/nfnetlink_queue.h and
// linux/netfilter/nfnetlink.h (https://www.netfilter.org/projects/libnetfilter_queue/doxygen/html/).
const (
	subsystemQueue     = 3 // NFNL_SUBSYS_QUEUE
	messagePacket      = 0 // NFQNL_MSG_PACKET
	messageVerdict     = 1 // NFQNL_MSG_VERDICT
	messageConfig      = 2 // NFQNL_MSG_CONFIG
	attrConfigCommand  = 1 // NFQA_CFG_CMD
	attrConfigParams   = 2 // NFQA_CFG_PARAMS
	attrConfigMaxLen   = 3 // NFQA_CFG_QUEUE_MAXLEN
	attrConfigMask     = 4 // NFQA_CFG_MASK
	attrConfigFlags    = 5 // NFQA_CFG_FLAGS
	attrPacketHeader   = 1 // NFQA_PACKET_HDR
	attrVerdictHeader  = 2 // NFQA_VERDICT_HDR
	commandBind        = 1 // NFQNL_CFG_CMD_BIND
	copyMeta           = 1 // NFQNL_COPY_META: ids only, no payload
	flagFailOpen       = 1 // NFQA_CFG_F_FAIL_OPEN: accept what cannot be queued
	verdictAccept      = 1 // NF_ACCEPT
	attrTypeMask       = 0x3fff
	netlinkHeaderBytes = unix.SizeofNlMsghdr
)

// Sizes of the delayer's buffers. delayQueueMaxLength is the kernel's queue
// bound (netem's default limit is 1000 packets,
// https://man7.org/linux/man-pages/man8/tc-netem.8.html; a delayed link
// holds delay x packet rate, so allow more); with fail-open, packets beyond
// it pass undelayed rather than being dropped.
const (
	delayQueueMaxLength  = 16384
	delayReceiveBuffer   = 8 << 20
	delayReadTimeout     = 100 * time.Millisecond // how often the reader checks for Close
	delayMessageCapacity = 1 << 16
)

// delayer holds every packet a node sends for a fixed delay: an iptables
// NFQUEUE rule hands the packets to this netlink socket, opened inside the
// node's network namespace, and each gets its ACCEPT verdict delay after it
// arrived. It is netem's delay done in user space, for kernels built without
// sch_netem (like the one this project is built on).
type delayer struct {
	pid   int
	delay time.Duration
	fd    int
	queue uint16

	due     chan pendingVerdict
	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

type pendingVerdict struct {
	id  uint32
	due time.Time
}

func openDelayer(pid int, queue uint16, delay time.Duration) (*delayer, error) {
	fd, err := netlinkSocketIn(pid)
	if err != nil {
		return nil, err
	}
	d := &delayer{pid: pid, delay: delay, fd: fd, queue: queue, due: make(chan pendingVerdict, delayQueueMaxLength), stop: make(chan struct{})}
	if err := d.configure(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	d.stopped.Add(2)
	go d.receive()
	go d.release()
	return d, nil
}

// netlinkSocketIn opens a netfilter netlink socket in the network namespace
// of pid. A socket belongs to the namespace it was created in, so the
// calling thread enters that namespace just for the socket call.
func netlinkSocketIn(pid int) (int, error) {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("open own network namespace: %w", err)
	}
	defer own.Close()
	target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("enter network namespace of pid %d: %w", pid, err)
	}
	fd, socketErr := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so the runtime discards it instead of
		// running other goroutines in the wrong namespace.
		if socketErr == nil {
			_ = unix.Close(fd)
		}
		return -1, fmt.Errorf("return to own network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	if socketErr != nil {
		return -1, fmt.Errorf("open netfilter netlink socket: %w", socketErr)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("bind netlink socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, delayReceiveBuffer)
	timeout := unix.NsecToTimeval(delayReadTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &timeout); err != nil {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("set netlink read timeout: %w", err)
	}
	return fd, nil
}

func (d *delayer) configure() error {
	var maxLength, flags, mask [4]byte
	binary.BigEndian.PutUint32(maxLength[:], delayQueueMaxLength)
	binary.BigEndian.PutUint32(flags[:], flagFailOpen)
	binary.BigEndian.PutUint32(mask[:], flagFailOpen)
	params := make([]byte, 5)
	binary.BigEndian.PutUint32(params, 0) // copy range: no payload
	params[4] = copyMeta
	steps := []struct {
		what  string
		attrs []netlinkAttribute
	}{
		{"bind queue", []netlinkAttribute{{attrConfigCommand, []byte{commandBind, 0, 0, 0}}}},
		{"set copy mode", []netlinkAttribute{{attrConfigParams, params}}},
		{"set queue length", []netlinkAttribute{{attrConfigMaxLen, maxLength[:]}, {attrConfigFlags, flags[:]}, {attrConfigMask, mask[:]}}},
	}
	for i, step := range steps {
		message := d.message(messageConfig, unix.NLM_F_REQUEST|unix.NLM_F_ACK, uint32(i+1), step.attrs)
		if err := unix.Sendto(d.fd, message, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
		if err := d.awaitAck(uint32(i + 1)); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
	}
	return nil
}

type netlinkAttribute struct {
	kind    uint16
	payload []byte
}

func (d *delayer) message(kind uint16, flags uint16, sequence uint32, attrs []netlinkAttribute) []byte {
	length := netlinkHeaderBytes + 4
	for _, attr := range attrs {
		length += nlaAlign(4 + len(attr.payload))
	}
	message := make([]byte, length)
	binary.NativeEndian.PutUint32(message[0:], uint32(length))
	binary.NativeEndian.PutUint16(message[4:], subsystemQueue<<8|kind)
	binary.NativeEndian.PutUint16(message[6:], flags)
	binary.NativeEndian.PutUint32(message[8:], sequence)
	// nfgenmsg: family AF_UNSPEC, version 0, queue number big-endian.
	binary.BigEndian.PutUint16(message[netlinkHeaderBytes+2:], d.queue)
	offset := netlinkHeaderBytes + 4
	for _, attr := range attrs {
		binary.NativeEndian.PutUint16(message[offset:], uint16(4+len(attr.payload)))
		binary.NativeEndian.PutUint16(message[offset+2:], attr.kind)
		copy(message[offset+4:], attr.payload)
		offset += nlaAlign(4 + len(attr.payload))
	}
	return message
}

func nlaAlign(n int) int { return (n + 3) &^ 3 }

func (d *delayer) awaitAck(sequence uint32) error {
	buffer := make([]byte, delayMessageCapacity)
	for {
		n, _, err := unix.Recvfrom(d.fd, buffer, 0)
		if err != nil {
			return fmt.Errorf("read acknowledgement: %w", err)
		}
		for message := range netlinkMessages(buffer[:n]) {
			kind := binary.NativeEndian.Uint16(message[4:])
			if kind != unix.NLMSG_ERROR || binary.NativeEndian.Uint32(message[8:]) != sequence {
				continue
			}
			if code := int32(binary.NativeEndian.Uint32(message[netlinkHeaderBytes:])); code != 0 {
				return unix.Errno(-code)
			}
			return nil
		}
	}
}

// netlinkMessages splits a datagram into its netlink messages.
func netlinkMessages(data []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(data) >= netlinkHeaderBytes {
			length := int(binary.NativeEndian.Uint32(data))
			if length < netlinkHeaderBytes || length > len(data) {
				return
			}
			if !yield(data[:length]) {
				return
			}
			data = data[min(nlaAlign(length), len(data)):]
		}
	}
}

func (d *delayer) receive() {
	defer d.stopped.Done()
	buffer := make([]byte, delayMessageCapacity)
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		n, _, err := unix.Recvfrom(d.fd, buffer, 0)
		if err != nil {
			// EAGAIN is the read timeout; ENOBUFS means the kernel dropped
			// messages we were too slow for (fail-open passes them).
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return
		}
		arrived := time.Now()
		for message := range netlinkMessages(buffer[:n]) {
			if binary.NativeEndian.Uint16(message[4:]) != subsystemQueue<<8|messagePacket {
				continue
			}
			if id, ok := packetID(message[netlinkHeaderBytes+4:]); ok {
				select {
				case d.due <- pendingVerdict{id: id, due: arrived.Add(d.delay)}:
				case <-d.stop:
					return
				}
			}
		}
	}
}

func packetID(attrs []byte) (uint32, bool) {
	for len(attrs) >= 4 {
		length := int(binary.NativeEndian.Uint16(attrs))
		kind := binary.NativeEndian.Uint16(attrs[2:]) & attrTypeMask
		if length < 4 || length > len(attrs) {
			return 0, false
		}
		if kind == attrPacketHeader && length >= 8 {
			return binary.BigEndian.Uint32(attrs[4:]), true
		}
		attrs = attrs[min(nlaAlign(length), len(attrs)):]
	}
	return 0, false
}

// release gives each packet its verdict when its delay is over. The delay is
// the same for all, so the packets fall due in arrival order.
func (d *delayer) release() {
	defer d.stopped.Done()
	for {
		select {
		case pending := <-d.due:
			if wait := time.Until(pending.due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-d.stop:
					d.accept(pending.id)
					d.drain()
					return
				}
			}
			d.accept(pending.id)
		case <-d.stop:
			d.drain()
			return
		}
	}
}

func (d *delayer) drain() {
	for {
		select {
		case pending := <-d.due:
			d.accept(pending.id)
		default:
			return
		}
	}
}

func (d *delayer) accept(id uint32) {
	var header [8]byte
	binary.BigEndian.PutUint32(header[0:], verdictAccept)
	binary.BigEndian.PutUint32(header[4:], id)
	message := d.message(messageVerdict, unix.NLM_F_REQUEST, 0, []netlinkAttribute{{attrVerdictHeader, header[:]}})
	_ = unix.Sendto(d.fd, message, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// Close lets every held packet go and closes the socket.
func (d *delayer) Close() {
	d.once.Do(func() {
		close(d.stop)
		d.stopped.Wait()
		d.drain()
		_ = unix.Close(d.fd)
	})
}
