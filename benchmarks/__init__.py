"""Benchmarks: the gateway over the sandbox centres on real loopback sockets."""
