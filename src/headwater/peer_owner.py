"""Which user's process is at the other end of a loopback TCP connection (Linux).

``headwater serve`` and each execution environment's Runtime API listen on loopback and
run code for whoever calls them, so on a machine shared with other users a process of
another user could connect and run code as this one. On Linux the kernel lists every TCP
socket with its owner's uid in ``/proc/net/tcp`` (IPv4) and ``/proc/net/tcp6`` (IPv6):
the peer of a loopback connection is the socket whose local address is our peer's and
whose remote address is ours. Both servers ask once per connection, never per request.

Not answered (``None``, nothing refused): a remote peer (another machine: that is
``--host`` and ``--allow-host``'s business), another system than Linux, a peer socket no
longer listed (closed already: there is nothing left to protect) or an unreadable table.
A top-level module because both ``server`` and ``runtime`` use it, and ``runtime`` may not
import from ``server``.
"""

from __future__ import annotations

import ipaddress
import os
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
