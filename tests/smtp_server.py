#!/usr/bin/env python3
"""A real SMTP server for Gorod's mail tests (aiosmtpd), storing what it
receives, with the faults the tests need.

    smtp_server.py --port PORT --store DIR [--hang-first N] [--delay-ms MS]

Each accepted message is appended to DIR/messages.jsonl as
{"mail_from", "rcpt_tos", "data"}. Recipients choose a fault by their local
part:
  bounce-…@…  refused with 550 (permanent);
  later-…@…   refused with 451 the first time that address is seen, accepted
              afterwards (temporary).
With --hang-first N, the first N connections are accepted and never answered
(no greeting), as a stuck server would; later ones are served normally.
With --delay-ms MS, each message is accepted MS milliseconds after its data
arrives, as a busy relay would.
Prints "ready PORT" on stdout once it listens.
"""

import argparse
import asyncio
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, directory, delay_ms):
        self.path = os.path.join(directory, "messages.jsonl")
        self.deferred = set()
        self.delay = delay_ms / 1000

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("bounce-"):
            return "550 5.1.1 No such mailbox here"
        if local.startswith("later-") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", errors="replace"),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


async def pipe(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--hang-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.store, exist_ok=True)

    # aiosmtpd listens on a port of its own; the public port is a plain
    # relay to it, which can also hold connections without answering.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    inner_port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Store(args.store, args.delay_ms), hostname="127.0.0.1", port=inner_port)
    controller.start()
    held = []
    remaining = [args.hang_first]

    async def accept(reader, writer):
        if remaining[0] > 0:
            remaining[0] -= 1
            held.append(writer)
            return
        inner_reader, inner_writer = await asyncio.open_connection("127.0.0.1", inner_port)
        await asyncio.gather(pipe(reader, inner_writer), pipe(inner_reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
