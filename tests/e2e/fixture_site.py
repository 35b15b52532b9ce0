"""A small fixture web site on loopback for end-to-end tests: a page, a JSON API, an M3U list and an
HLS stream, plus a source that answers garbage."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEGMENT = bytes([0x47]) + bytes(range(255)) * 64
MEDIA = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\n0.ts\n#EXTINF:2,\n1.ts\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path = self.path.split("?")[0]
        if path == "/page.html":
            self.send(200, f'<title>Fixture TV</title><script>var s="{base}\\/live\\/index.m3u8?token=abc";</script>', "text/html")
        elif path == "/api.json":
            self.send(200, '{"items": [{"u": "/live/index.m3u8?token=def&v=2", "n": "API stream", "id": "a1"}]}', "application/json")
        elif path == "/list.m3u":
            self.send(200, "#EXTM3U\n#EXTINF:-1 tvg-id=\"c1\",List channel\n/live/index.m3u8?v=3\n", "audio/x-mpegurl")
        elif path == "/broken.json":
            self.send(200, "<html>oops</html>", "text/html")
        elif path == "/live/index.m3u8":
            self.send(200, MEDIA, "application/vnd.apple.mpegurl")
        elif path in ("/live/0.ts", "/live/1.ts"):
            self.send(200, SEGMENT, "video/mp2t")
        else:
            self.send(404, "not found", "text/plain")


def start():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
