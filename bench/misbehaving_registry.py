#!/usr/bin/env python3
"""A registry that never finishes, for bench/registry.sh part f: TLS on 127.0.0.1, a port of its
own (written to PORTFILE), one thread per connection, until killed.

usage: misbehaving_registry.py MODE CERT KEY PORTFILE
  hang         completes the TLS handshake, reads the request, never answers
  trickle      200 with Content-Length 4 MiB, then the body at 1.5 KB/s (above sigil's minimum
               rate of 1 KiB/s, so that only the deadline ends it: 4 MiB would take 46 minutes)
  retry-after  429 with Retry-After: 3600, to every request
"""
import socket
import ssl
import sys
import threading
import time

MODE, CERT, KEY, PORTFILE = sys.argv[1:5]
if MODE not in ("hang", "trickle", "retry-after"):
    sys.exit("misbehaving_registry.py: unknown mode " + MODE)

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
ctx.set_alpn_protocols(["http/1.1"])


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            return None
        buf += data
    return buf


def serve(conn):
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        while read_head(s) is not None:
            if MODE == "hang":
                while s.recv(4096):  # until the client leaves
                    pass
                return
            if MODE == "trickle":
                s.sendall(b"HTTP/1.1 200 OK\r\n"
                          b"Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                          b"Content-Length: 4194304\r\n\r\n")
                while True:
                    s.sendall(b" " * 150)
                    time.sleep(0.1)
            s.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 0\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


server = socket.create_server(("127.0.0.1", 0))
with open(PORTFILE, "w") as f:
    f.write(str(server.getsockname()[1]))
while True:
    client, _ = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
