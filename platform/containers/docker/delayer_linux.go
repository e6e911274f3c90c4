package docker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
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

// delayer holds the packets a node sends for a fixed delay per queue: the
// node's iptables NFQUEUE rules hand packets to its queues (one queue per
// distinct delay: a peer in another region, in another zone, every packet
// under an added-latency fault), this netlink socket, opened inside the
// node's network namespace, is bound to all of them, and each packet gets
// its ACCEPT verdict its queue's delay after it arrived. It is netem's delay
// done in user space, for kernels built without sch_netem (like the one
// this project is built on).
type delayer struct {
	pid    int
	delays map[uint16]time.Duration // queue number -> delay
	fd     int

	due     map[uint16]chan pendingVerdict
	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

type pendingVerdict struct {
	id  uint32
	due time.Time
}

func openDelayer(pid int, delays map[uint16]time.Duration) (*delayer, error) {
	fd, err := netlinkSocketIn(pid)
	if err != nil {
		return nil, err
	}
	d := &delayer{pid: pid, delays: delays, fd: fd, due: map[uint16]chan pendingVerdict{}, stop: make(chan struct{})}
	for queue := range delays {
		if err := d.configure(queue); err != nil {
			_ = unix.Close(fd)
			return nil, fmt.Errorf("queue %d: %w", queue, err)
		}
		d.due[queue] = make(chan pendingVerdict, delayQueueMaxLength)
	}
	d.stopped.Add(1 + len(delays))
	go d.receive()
	for queue := range delays {
		go d.release(queue)
	}
	return d, nil
}

// sameDelays reports whether the delayer already serves exactly these
// queues with these delays for process pid.
func (d *delayer) sameDelays(pid int, delays map[uint16]time.Duration) bool {
	return d.pid == pid && maps.Equal(d.delays, delays)
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

func (d *delayer) configure(queue uint16) error {
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
		sequence := uint32(queue)<<8 | uint32(i+1)
		message := message(queue, messageConfig, unix.NLM_F_REQUEST|unix.NLM_F_ACK, sequence, step.attrs)
		if err := unix.Sendto(d.fd, message, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
		if err := d.awaitAck(sequence); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
	}
	return nil
}

type netlinkAttribute struct {
	kind    uint16
	payload []byte
}

func message(queue uint16, kind uint16, flags uint16, sequence uint32, attrs []netlinkAttribute) []byte {
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
	binary.BigEndian.PutUint16(message[netlinkHeaderBytes+2:], queue)
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
			if binary.NativeEndian.Uint16(message[4:]) != subsystemQueue<<8|messagePacket || len(message) < netlinkHeaderBytes+4 {
				continue
			}
			// nfgenmsg: family, version, then the queue number, big-endian.
			queue := binary.BigEndian.Uint16(message[netlinkHeaderBytes+2:])
			due, known := d.due[queue]
			if !known {
				continue
			}
			if id, ok := packetID(message[netlinkHeaderBytes+4:]); ok {
				select {
				case due <- pendingVerdict{id: id, due: arrived.Add(d.delays[queue])}:
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

// release gives each packet of queue its verdict when its delay is over.
// The delay is the same for every packet of a queue, so they fall due in
// arrival order.
func (d *delayer) release(queue uint16) {
	defer d.stopped.Done()
	due := d.due[queue]
	for {
		select {
		case pending := <-due:
			if wait := time.Until(pending.due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-d.stop:
					d.accept(queue, pending.id)
					d.drain(queue)
					return
				}
			}
			d.accept(queue, pending.id)
		case <-d.stop:
			d.drain(queue)
			return
		}
	}
}

func (d *delayer) drain(queue uint16) {
	for {
		select {
		case pending := <-d.due[queue]:
			d.accept(queue, pending.id)
		default:
			return
		}
	}
}

func (d *delayer) accept(queue uint16, id uint32) {
	var header [8]byte
	binary.BigEndian.PutUint32(header[0:], verdictAccept)
	binary.BigEndian.PutUint32(header[4:], id)
	message := message(queue, messageVerdict, unix.NLM_F_REQUEST, 0, []netlinkAttribute{{attrVerdictHeader, header[:]}})
	_ = unix.Sendto(d.fd, message, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// Close lets every held packet go and closes the socket.
func (d *delayer) Close() {
	d.once.Do(func() {
		close(d.stop)
		d.stopped.Wait()
		for queue := range d.due {
			d.drain(queue)
		}
		_ = unix.Close(d.fd)
	})
}
