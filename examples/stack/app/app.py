"""A tiny web app for berth's example stack: counts visits in redis.

It uses only modules that Debian's python3-minimal ships (socket, os), so the example image
stays small: HTTP and the redis protocol (RESP) are spoken by hand.
"""
import os
import socket

REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
PORT = int(os.environ.get("PORT", "8080"))


def redis_command(*args):
    """Sends one command to redis and returns its reply (integers and bulk strings only)."""
    payload = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(str(a).encode()), a) for a in args)
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as conn:
        conn.sendall(payload.encode())
        reply = conn.makefile("rb").readline().decode().rstrip("\r\n")
    if reply.startswith(":"):
        return int(reply[1:])
    if reply.startswith("+"):
        return reply[1:]
    raise RuntimeError("redis replied %r" % reply)


def respond(conn, status, body):
    data = body.encode()
    head = "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(data))
    conn.sendall(head.encode() + data)


def handle(conn):
    request = conn.recv(4096).decode(errors="replace")
    path = request.split(" ")[1] if request.count(" ") >= 2 else "/"
    if path == "/health":
        respond(conn, "200 OK", "ok\n")
        return
    try:
        count = redis_command("INCR", "visits")
        respond(conn, "200 OK", "hello from berth: %d visits\n" % count)
    except (OSError, RuntimeError) as err:
        respond(conn, "503 Service Unavailable", "redis unavailable: %s\n" % err)


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", PORT))
    server.listen(16)
    print("listening on :%d, redis at %s:%d" % (PORT, REDIS_HOST, REDIS_PORT), flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            try:
                handle(conn)
            except OSError:
                pass


if __name__ == "__main__":
    main()
