"""A hostile origin on loopback for the fault matrix (issue 11). `/p/{fault}/index.m3u8` is a playlist that
misbehaves as `fault` says; `/s/{fault}/index.m3u8` is a well-formed playlist whose segment misbehaves."""
import gzip
import socket
import time

from http_fixture import FixtureHandler, serve

PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\ns0.ts\n#EXTINF:2,\ns1.ts\n"
SEGMENT = bytes([0x47]) + bytes(187) + bytes([0x47]) + bytes(187)
SLOW_SEGMENT = SEGMENT * 1000


class Handler(FixtureHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 3:
            return self.send(404, "no")
        area, fault, name = parts[0], parts[1], "/".join(parts[2:])
        try:
            if area == "p":
                return self.playlist(fault, name)
            if area == "s":
                if name == "index.m3u8":
                    return self.send(200, PLAYLIST, "application/vnd.apple.mpegurl")
                return self.segment(fault)
            if area == "hop":
                # /hop/{n}/x: a chain of redirects that ends in the playlist after n hops.
                hops = int(fault)
                if hops > 0:
                    return self.redirect(f"/hop/{hops - 1}/{name}")
                return self.send(200, PLAYLIST, "application/vnd.apple.mpegurl")
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            return
        return self.send(404, "no")

    def playlist(self, fault, name):
        if fault in ("403", "404", "410", "500", "503"):
            return self.send(int(fault), "refused")
        if fault == "silent":
            # Reads the request and never answers: no status line, no headers.
            time.sleep(60)
            return
        if fault == "hangup":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for byte in (PLAYLIST * 1000).encode()[:60]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)
            return
        if fault == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Length", "10000")
            self.end_headers()
            self.wfile.write(PLAYLIST.encode())
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "html":
            return self.send(200, "<!doctype html><html><body>Please enable JavaScript</body></html>", "text/html")
        if fault == "empty":
            return self.send(200, b"", "application/vnd.apple.mpegurl")
        if fault == "garbage":
            return self.send(200, bytes(range(256)) * 64, "application/vnd.apple.mpegurl")
        if fault == "huge":
            return self.send(200, PLAYLIST.encode() + b"#" * (50 * 1024 * 1024), "application/vnd.apple.mpegurl")
        if fault == "many":
            body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n" + "".join(
                f"#EXTINF:2,\ns{n}.ts\n" for n in range(200_000)) + "#EXT-X-ENDLIST\n"
            return self.send(200, body, "application/vnd.apple.mpegurl")
        if fault == "longline":
            body = PLAYLIST + "#EXT-X-X-VENDOR:" + "x" * (1024 * 1024) + "\n" + "#EXTINF:2,\n" + "s2.ts?" + "q" * (1024 * 1024) + "\n"
            return self.send(200, body, "application/vnd.apple.mpegurl")
        if fault == "nul":
            return self.send(200, PLAYLIST.replace("s1.ts", "s1\x00.ts") + "#EXT-X-\x00X\n", "application/vnd.apple.mpegurl")
        if fault == "utf8":
            return self.send(200, PLAYLIST.encode() + b"#EXT-X-SESSION-DATA:DATA-ID=\"t\",VALUE=\"\xff\xfe\xc3\x28\"\n#EXTINF:2,\n\xff\xfe.ts\n",
                             "application/vnd.apple.mpegurl")
        if fault == "gzip":
            data = gzip.compress(PLAYLIST.encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if fault == "loop":
            return self.redirect(f"/p/loop/{name}")
        return self.send(404, "no")

    def segment(self, fault):
        if fault == "403":
            return self.send(403, "refused")
        if fault in ("endless", "flood"):
            # A segment that never ends: at about 1 MB/s (endless) or as fast as loopback goes (flood).
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = SEGMENT * 256
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                time.sleep(0.1 if fault == "endless" else 0.001)
        if fault == "slow":
            # A whole segment (SLOW_SEGMENT bytes) in ten pieces over about 2 s: a download in flight.
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.send_header("Content-Length", str(len(SLOW_SEGMENT)))
            self.end_headers()
            piece = len(SLOW_SEGMENT) // 10
            for start in range(0, len(SLOW_SEGMENT), piece):
                self.wfile.write(SLOW_SEGMENT[start:start + piece])
                self.wfile.flush()
                time.sleep(0.2)
            return
        if fault == "empty":
            return self.send(200, b"", "video/mp2t")
        if fault == "ignores-range":
            # Answers any Range with the whole file and 200.
            return self.send(200, bytes(range(256)) * 40, "video/mp2t")
        if fault == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.send_header("Content-Length", str(100 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(SEGMENT * 1000)
            return
        return self.send(404, "no")

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def start():
    server = serve(Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # clients Pitlane cut off are the point here
    return server
