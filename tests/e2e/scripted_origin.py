"""A stream site on loopback whose player builds its playlist URL in script: the page asks an API for a
token and a base64 path, sets cookies, and requests the playlist with a header of its own. The CDN part
checks all of it (token and its expiry, both cookies, the header, the Referer) on every playlist and
segment, so only what a browser saw plays. Tokens live TTL seconds."""
import base64
import json
import time

from http_fixture import FixtureHandler, serve
from live_origin import SEGMENTS, media_playlist

TTL = 15

PAGE = """<html><head><title>Scripted Live</title></head><body><video muted></video><script>
document.cookie = "viewer=v1; path=/";
fetch("/api/token").then(r => r.json()).then(j => {
  fetch(atob(j.p) + "?token=" + j.t + "&exp=" + j.e, {headers: {"X-Player": "e2e"}});
});
</script></body></html>"""


class Handler(FixtureHandler):
    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        if path == "/watch.html":
            return self.send(200, PAGE, "text/html")
        if path == "/api/token":
            issued = int(time.time())
            body = json.dumps({"p": base64.b64encode(b"/cdn/live.m3u8").decode(), "t": str(issued), "e": str(issued + TTL)})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "session=ok; Path=/")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        if not path.startswith("/cdn/"):
            return self.send(404, "no")
        cookie = self.headers.get("Cookie", "")
        fresh = params.get("token", "").isdigit() and time.time() < int(params["token"]) + TTL
        if not fresh:
            self.server.expired += 1
            return self.send(403, "token expired")
        if self.headers.get("X-Player") != "e2e" or "session=ok" not in cookie or "viewer=v1" not in cookie \
                or not self.headers.get("Referer", "").startswith(base):
            self.server.rejected += 1
            return self.send(403, "players only")
        name = path[len("/cdn/"):]
        if name == "live.m3u8":
            return self.send(200, media_playlist(time.time(), query), "application/vnd.apple.mpegurl")
        if name.endswith(".ts") and name[:-3].isdigit() and int(name[:-3]) < len(SEGMENTS):
            self.server.segments += 1
            return self.send(200, SEGMENTS[int(name[:-3])].read_bytes(), "video/mp2t")
        return self.send(404, "no")


def start():
    server = serve(Handler)
    server.expired = server.rejected = server.segments = 0
    return server
