#!/usr/bin/env python3
"""A TCP relay on loopback that delays everything by DELAY_MS each way, for
make bench (the kernel here has no netem).
    relay.py TARGET_PORT DELAY_MS PORT_FILE
Listens on 127.0.0.1 (port written to PORT_FILE when ready) and forwards
each connection to 127.0.0.1:TARGET_PORT. A chunk that arrives at t leaves
at t + DELAY_MS, in order; the connection itself counts as one round trip
(the client's first bytes leave no earlier than accept + 2 x DELAY_MS +
DELAY_MS), as a TCP handshake over such a link would. Stops on SIGTERM."""

import asyncio
import os
import signal
import socket
import sys


async def pump(reader, writer, delay, opened):
    """Copies reader to writer, each chunk held until its time comes."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((max(loop.time(), opened) + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        writer.close()


async def serve(target, delay, port_file):
    async def handle(client_r, client_w):
        opened = asyncio.get_running_loop().time() + 2 * delay  # the TCP handshake
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        for w in (client_w, server_w):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(pump(client_r, server_w, delay, opened),
                             pump(server_r, client_w, delay, opened),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    tmp = port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as handle_file:
        handle_file.write("%d\n" % server.sockets[0].getsockname()[1])
    os.replace(tmp, port_file)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]) / 1000, sys.argv[3]))
