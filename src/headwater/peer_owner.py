"""Which user's process is at the other end of a loopback TCP connection (Linux).

``headwater serve`` and each execution environment's Runtime API listen on loopback and
run code for whoever calls them, so on a machine shared with other users a process of
another user could connect and run code as this one. On Linux the kernel lists every TCP
socket with its owner's uid in ``/proc/net/tcp`` (IPv4) and ``/proc/net/tcp6`` (IPv6):
the peer of a loopback connection is the socket whose local address is our peer's and
whose remote address is ours. Both servers ask once per connection, never per request.

The kernel is asked first through ``NETLINK_SOCK_DIAG`` (what ``ss`` uses) for that one
socket: a hash lookup. The tables are read only where netlink is refused (some sandboxes):
reading them costs a line per socket of the machine, so with thousands of connections open
(a client opening them on purpose) every new connection cost milliseconds, and a burst of
them held the server's loop for seconds.

Not answered (``None``, nothing refused): a remote peer (another machine: that is
``--host`` and ``--allow-host``'s business), another system than Linux, a peer socket no
longer listed (closed already: there is nothing left to protect) or an unreadable table.
A top-level module because both ``server`` and ``runtime`` use it, and ``runtime`` may not
import from ``server``.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
import sys
from typing import Any

#: The owner of a socket that is always allowed besides ours: root can act as any user.
ROOT_UID = 0


def loopback_peer_owner(local: Any, peer: Any) -> int | None:
    """The uid owning the socket at ``peer`` connected to our ``local`` (``getsockname`` and
    ``getpeername`` of an accepted connection: ``(host, port, ...)`` tuples) when ``peer``
    is a loopback address on Linux and its socket is still listed; else ``None``."""
    if sys.platform != "linux" or not _is_address(local) or not _is_address(peer):
        return None
    try:
        peer_ip = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
        local_ip = ipaddress.ip_address(str(local[0]).split("%", 1)[0])
    except ValueError:
        return None
    peer_ip, local_ip = _unmapped(peer_ip), _unmapped(local_ip)
    if not peer_ip.is_loopback or peer_ip.version != local_ip.version:
        return None
    # the peer's socket: its local address is our peer's, its remote one ours
    owner = _diag_owner(peer_ip, int(peer[1]), local_ip, int(local[1]))
    if not isinstance(owner, _Unavailable):
        return owner
    if peer_ip.version == 6:
        wanted = [("/proc/net/tcp6", _columns(peer_ip, peer, local_ip, local))]
    else:
        wanted = [
            ("/proc/net/tcp", _columns(peer_ip, peer, local_ip, local)),
            # an IPv6 socket that connected to ::ffff:127.0.0.1 (rare: looked for only
            # when no IPv4 socket is found) is listed with the IPv4-mapped addresses
            ("/proc/net/tcp6", _columns(_mapped(peer_ip), peer, _mapped(local_ip), local)),
        ]
    for table, key in wanted:
        try:
            with open(table, "rb") as lines:
                for line in lines:
                    # a substring test per line, a split only for the one found: the table
                    # lists every socket of the machine (thousands on a busy one)
                    if key in line:
                        return int(line.split()[7])
        except (OSError, ValueError, IndexError):
            return None
    return None


def other_user_of(transport: Any) -> int | None:
    """The uid of the process at the other end of ``transport`` (an accepted asyncio
    connection) when it is a loopback peer owned by neither this process's user nor root;
    ``None`` for every other connection (see the module docstring)."""
    owner = loopback_peer_owner(
        transport.get_extra_info("sockname"), transport.get_extra_info("peername")
    )
    if owner is None or owner in (os.getuid(), ROOT_UID):
        return None
    return owner


def user_name(uid: int) -> str:
    """``uid``'s login name when it has one (``nobody``), else the number."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


class _Unavailable:
    """Netlink's socket diagnostics cannot be asked here: read the tables instead."""


_UNAVAILABLE = _Unavailable()

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR = 2
_NLM_F_REQUEST = 1
#: ``inet_diag_req_v2``'s cookie for "any socket with this address" (``INET_DIAG_NOCOOKIE``).
_NO_COOKIE = 0xFFFFFFFF
#: Where ``inet_diag_msg`` holds the uid: after family, state, timer, retrans (4 bytes),
#: the socket id (48) and expires, rqueue, wqueue (12).
_UID_OFFSET = 64


def _diag_owner(
    peer_ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    peer_port: int,
    local_ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    local_port: int,
) -> int | _Unavailable | None:
    """The uid owning the TCP socket bound to ``peer_ip:peer_port`` and connected to
    ``local_ip:local_port``, asked of the kernel for that socket alone; ``None`` when there
    is none (closed already), ``_UNAVAILABLE`` when netlink cannot be asked."""
    owner = _diag_lookup(peer_ip, peer_port, local_ip, local_port)
    if owner is None and peer_ip.version == 4:
        # an IPv6 socket connected to ::ffff:127.0.0.1 (rare: asked only when no IPv4
        # socket is found) is known by its IPv4-mapped addresses
        owner = _diag_lookup(_mapped(peer_ip), peer_port, _mapped(local_ip), local_port)
    return owner


def _diag_lookup(
    source: ipaddress.IPv4Address | ipaddress.IPv6Address,
    source_port: int,
    destination: ipaddress.IPv4Address | ipaddress.IPv6Address,
    destination_port: int,
) -> int | _Unavailable | None:
    """One ``SOCK_DIAG_BY_FAMILY`` request for the TCP socket with these addresses."""
    family = socket.AF_INET if source.version == 4 else socket.AF_INET6
    socket_id = struct.pack(
        ">HH16s16s",
        source_port,
        destination_port,
        source.packed.ljust(16, b"\0"),
        destination.packed.ljust(16, b"\0"),
    ) + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    # inet_diag_req_v2: family, protocol, extensions, padding, states (every state)
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + socket_id
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as diag:
            diag.settimeout(1.0)
            diag.sendall(header + request)
            reply = diag.recv(8192)
    except (OSError, AttributeError):  # no AF_NETLINK, or refused by a sandbox
        return _UNAVAILABLE
    if len(reply) < 16:
        return _UNAVAILABLE
    kind = struct.unpack_from("=H", reply, 4)[0]
    if kind == _NLMSG_ERROR:
        code = -struct.unpack_from("=i", reply, 16)[0] if len(reply) >= 20 else 0
        return None if code == errno.ENOENT else _UNAVAILABLE
    if kind != _SOCK_DIAG_BY_FAMILY or len(reply) < 16 + _UID_OFFSET + 4:
        return _UNAVAILABLE
    uid: int = struct.unpack_from("=I", reply, 16 + _UID_OFFSET)[0]
    return uid


def _is_address(address: Any) -> bool:
    return isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int)


def _columns(
    peer_ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    peer: Any,
    local_ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    local: Any,
) -> bytes:
    """The local and remote address columns of the peer's line in ``/proc/net/tcp*``."""
    columns = f" {_proc_address(peer_ip, int(peer[1]))} {_proc_address(local_ip, int(local[1]))} "
    return columns.encode("ascii")


def _unmapped(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """``ip``, or the IPv4 address it maps (a dual-stack listener's IPv4 client)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _mapped(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(f"::ffff:{ip}")


def _proc_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> str:
    """``ip:port`` as ``/proc/net/tcp*`` writes it: the address as 32-bit words, each in
    the machine's byte order, in hex capitals; the port in hex."""
    packed = ip.packed
    words = (
        int.from_bytes(packed[start : start + 4], sys.byteorder)
        for start in range(0, len(packed), 4)
    )
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"
