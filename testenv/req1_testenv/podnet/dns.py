"""Cluster DNS for the test bed: answers ``cluster.local`` from the agent's records, nothing else.

Why our own small server: there is no outside network, so every name outside the cluster domain
gets NXDOMAIN at once and no query is ever forwarded. Inside the domain it follows CoreDNS's
kubernetes plugin: NXDOMAIN for names that do not exist, an empty NOERROR (with the SOA) for names
that exist without that record type (so glibc's parallel AAAA query never spoils an A answer).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, SRV, A, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from req1_testenv.podnet.addressing import CLUSTER_DOMAIN
from req1_testenv.podnet.services import DnsRecords

TTL = 5
log = logging.getLogger("podnet.dns")


class ClusterResolver(BaseResolver):
    """Reads ``records``, which the agent swaps whole on every change (no locking needed)."""

    def __init__(self, domain: str = CLUSTER_DOMAIN) -> None:
        self.domain = domain
        self.records = DnsRecords()
        self.soa = RR(
            domain, QTYPE.SOA, ttl=TTL,
            rdata=SOA(f"ns.dns.{domain}", f"hostmaster.{domain}", (1, 7200, 1800, 86400, TTL)),
        )

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = request.q.qtype
        if not (name == self.domain or name.endswith("." + self.domain)):
            reply.header.aa = 0
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        rec = self.records
        found = self._answer(reply, name, qtype, rec)
        if not found and name not in rec.names and self._pod_ip(name) is None:
            reply.header.rcode = RCODE.NXDOMAIN
        if not reply.rr:
            reply.add_auth(self.soa)
        return reply

    def _answer(self, reply: DNSRecord, name: str, qtype: int, rec: DnsRecords) -> bool:
        label = DNSLabel(name + ".")
        target = rec.cname.get(name)
        if target is not None:
            reply.add_answer(RR(label, QTYPE.CNAME, ttl=TTL, rdata=CNAME(target + ".")))
            return True
        addresses = rec.a.get(name) or ([ip] if (ip := self._pod_ip(name)) else [])
        if qtype in (QTYPE.A, QTYPE.ANY):
            for address in addresses:
                reply.add_answer(RR(label, QTYPE.A, ttl=TTL, rdata=A(address)))
        if qtype in (QTYPE.SRV, QTYPE.ANY):
            for port, srv_target in rec.srv.get(name, []):
                reply.add_answer(RR(label, QTYPE.SRV, ttl=TTL, rdata=SRV(0, 100, port, srv_target + ".")))
                for address in rec.a.get(srv_target, []):
                    reply.add_ar(RR(srv_target + ".", QTYPE.A, ttl=TTL, rdata=A(address)))
        return bool(addresses) or name in rec.srv

    def _pod_ip(self, name: str) -> str | None:
        """``1-2-3-4.<ns>.pod.<domain>`` resolves to 1.2.3.4, like CoreDNS's ``pods insecure``."""
        labels = name.split(".")
        if len(labels) != 3 + len(self.domain.split(".")) or labels[2] != "pod":
            return None
        try:
            return str(ipaddress.IPv4Address(labels[0].replace("-", ".")))
        except ValueError:
            return None


class QuietLogger(DNSLogger):
    """dnslib logs every query by default; keep only errors, through ``logging``."""

    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-recv,-send,-data", prefix=False)

    def log_error(self, handler: Any, e: Exception) -> None:
        log.warning("dns error from %s: %s", handler.client_address, e)


def serve(resolver: ClusterResolver, address: str, port: int = 53) -> list[DNSServer]:
    """UDP and TCP servers on ``address:port``, each in its own daemon thread."""
    servers = [
        DNSServer(resolver, address=address, port=port, tcp=tcp, logger=QuietLogger()) for tcp in (False, True)
    ]
    for server in servers:
        server.start_thread()
    return servers


def query(name: str, server: str, port: int = 53, qtype: str = "A", *, tcp: bool = False,
          timeout: float = 2.0) -> DNSRecord:
    """One DNS question to ``server`` (for tests and readiness checks)."""
    packet = DNSRecord.question(name, qtype).send(server, port, tcp=tcp, timeout=timeout)
    return DNSRecord.parse(packet)

