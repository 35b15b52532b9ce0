"""A small fixture web site on loopback for end-to-end tests: a page, a JSON API, an M3U list and an
HLS stream, plus a source that answers garbage."""
from http_fixture import FixtureHandler, serve

SEGMENT = bytes([0x47]) + bytes(range(255)) * 64
MEDIA = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\n0.ts\n#EXTINF:2,\n1.ts\n"


class Handler(FixtureHandler):
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
    return serve(Handler)
