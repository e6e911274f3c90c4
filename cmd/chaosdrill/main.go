// Command chaosdrill rehearses failures of a highly available platform and
// reports what was lost (RPO) and how long each service was down (RTO).
// See `chaosdrill --help` and the README.
package main

import "os"

func main() { os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr)) }
