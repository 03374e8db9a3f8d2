"""A tiny MJPEG-over-HTTP server on 127.0.0.1 for the reconnect test (run as a script).

usage: python mjpeg_server.py PORT VALUE [FPS] [LIFETIME_S] [STALL_AFTER]

Streams synthetic sector frames of brightness VALUE as multipart/x-mixed-replace JPEGs, at most
FPS per second and 2000 per connection; prints "ready" once listening and exits after
LIFETIME_S seconds whatever happens, so a test that dies cannot leave it running. With
STALL_AFTER, the first connection goes silent (open, no data) after that many frames.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


def frame(value: int, index: int) -> bytes:
    image = np.zeros((96, 80), np.uint8)
    cv2.ellipse(image, (40, 0), (90, 90), 90, -37, 37, value, -1)  # a fan from the apex at the top
    cv2.putText(image, str(index % 1000), (28, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1)
    ok, buf = cv2.imencode(".jpg", image)
    return buf.tobytes()


def main() -> None:
    port, value = int(sys.argv[1]), int(sys.argv[2])
    fps = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    stall_after = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    stalled = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for index in range(2000):
                    if index == stall_after and not stalled.is_set():
                        stalled.set()
                        time.sleep(lifetime)  # silent but connected, until the lifetime ends
                        return
                    data = frame(value, index)
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data))
                    self.wfile.write(data + b"\r\n")
                    self.wfile.flush()
                    time.sleep(1.0 / fps)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Timer(lifetime, server.shutdown).start()
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
