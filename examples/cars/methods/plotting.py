"""A tiny dependency-free plotter: scatter points and lines into a PNG (zlib + struct)."""

import math
import struct
import zlib

GLYPHS = {  # 3x5 pixel font, rows top to bottom
    'A': ".#.,#.#,###,#.#,#.#",
    'B': "##.,#.#,##.,#.#,##.",
    'C': ".##,#..,#..,#..,.##",
    'D': "##.,#.#,#.#,#.#,##.",
    'E': "###,#..,##.,#..,###",
    'F': "###,#..,##.,#..,#..",
    'G': ".##,#..,#.#,#.#,.##",
    'H': "#.#,#.#,###,#.#,#.#",
    'I': "###,.#.,.#.,.#.,###",
    'J': "..#,..#,..#,#.#,.#.",
    'K': "#.#,#.#,##.,#.#,#.#",
    'L': "#..,#..,#..,#..,###",
    'M': "#.#,###,###,#.#,#.#",
    'N': "##.,#.#,#.#,#.#,#.#",
    'O': ".#.,#.#,#.#,#.#,.#.",
    'P': "##.,#.#,##.,#..,#..",
    'Q': ".#.,#.#,#.#,##.,.##",
    'R': "##.,#.#,##.,#.#,#.#",
    'S': ".##,#..,.#.,..#,##.",
    'T': "###,.#.,.#.,.#.,.#.",
    'U': "#.#,#.#,#.#,#.#,###",
    'V': "#.#,#.#,#.#,#.#,.#.",
    'W': "#.#,#.#,###,###,#.#",
    'X': "#.#,#.#,.#.,#.#,#.#",
    'Y': "#.#,#.#,.#.,.#.,.#.",
    'Z': "###,..#,.#.,#..,###",
    '0': "###,#.#,#.#,#.#,###",
    '1': ".#.,##.,.#.,.#.,###",
    '2': "##.,..#,.#.,#..,###",
    '3': "##.,..#,.#.,..#,##.",
    '4': "#.#,#.#,###,..#,..#",
    '5': "###,#..,##.,..#,##.",
    '6': ".##,#..,###,#.#,###",
    '7': "###,..#,.#.,.#.,.#.",
    '8': "###,#.#,###,#.#,###",
    '9': "###,#.#,###,..#,##.",
    '.': "...,...,...,...,.#.",
    '-': "...,...,###,...,...",
    '/': "..#,..#,.#.,#..,#..",
    '(': ".#.,#..,#..,#..,.#.",
    ')': ".#.,..#,..#,..#,.#.",
    '=': "...,###,...,###,...",
    '+': "...,.#.,###,.#.,...",
    '*': "...,#.#,.#.,#.#,...",
    ':': "...,.#.,...,.#.,...",
    ',': "...,...,...,.#.,#..",
    ' ': "...,...,...,...,...",
}


class Canvas:
    def __init__(self, width, height, background=(255, 255, 255)):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x, y, color):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(color)

    def disc(self, cx, cy, r, color):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dx * dx + dy * dy <= r * r:
                    self.set(cx + dx, cy + dy, color)

    def line(self, x0, y0, x1, y1, color, width=1):
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            x = round(x0 + (x1 - x0) * i / steps)
            y = round(y0 + (y1 - y0) * i / steps)
            self.disc(x, y, width // 2, color) if width > 1 else self.set(x, y, color)

    def text(self, x, y, text, color=(0, 0, 0), scale=2):
        for n, ch in enumerate(text.upper()):
            glyph = GLYPHS.get(ch, GLYPHS[" "]).replace(",", "")
            for gy in range(5):
                for gx in range(3):
                    if glyph[gy * 3 + gx] == "#":
                        for sy in range(scale):
                            for sx in range(scale):
                                self.set(x + (n * 4 + gx) * scale + sx, y + gy * scale + sy, color)

    def text_width(self, text, scale=2):
        return len(text) * 4 * scale

    def png(self):
        raw = b"".join(
            b"\x00" + bytes(self.pixels[3 * y * self.width : 3 * (y + 1) * self.width])
            for y in range(self.height)
        )

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def nice_ticks(lo, hi, count=6):
    step = 10 ** math.floor(math.log10((hi - lo) / count))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= count:
            step *= m
            break
    ticks = [math.floor(lo / step) * step]
    while ticks[-1] < hi - step * 1e-9:  # the last tick covers the highest value
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


class Plot:
    """Axes fitted to some points, with ticks, labels and a title."""

    def __init__(self, points, xlabel="", ylabel="", title="", width=720, height=480):
        self.canvas = Canvas(width, height)
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        xt, yt = nice_ticks(0, max(xs)), nice_ticks(min(0, min(ys)), max(ys))
        self.x0, self.x1 = xt[0], xt[-1]
        self.y0, self.y1 = yt[0], yt[-1]
        self.left, self.right, self.top, self.bottom = 80, width - 30, 50, height - 60
        c, black, grey = self.canvas, (0, 0, 0), (225, 225, 225)
        for t in xt:
            x, _ = self.to_px(t, self.y0)
            c.line(x, self.top, x, self.bottom, grey)
            label = f"{t:g}"
            c.text(x - c.text_width(label) // 2, self.bottom + 10, label)
        for t in yt:
            _, y = self.to_px(self.x0, t)
            c.line(self.left, y, self.right, y, grey)
            label = f"{t:g}"
            c.text(self.left - 10 - c.text_width(label), y - 5, label)
        c.line(self.left, self.bottom, self.right, self.bottom, black, 2)
        c.line(self.left, self.top, self.left, self.bottom, black, 2)
        c.text((width - c.text_width(xlabel)) // 2, height - 25, xlabel)
        c.text(10, 20, ylabel)
        c.text((width - c.text_width(title, 3)) // 2, 12, title, scale=3)

    def to_px(self, x, y):
        px = self.left + (x - self.x0) / (self.x1 - self.x0) * (self.right - self.left)
        py = self.bottom - (y - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)
        return round(px), round(py)

    def points(self, points, color=(30, 90, 200)):
        for x, y in points:
            self.canvas.disc(*self.to_px(x, y), 4, color)

    def line(self, points, color=(200, 40, 40)):
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            self.canvas.line(*self.to_px(xa, ya), *self.to_px(xb, yb), color, 3)

    def save(self, path):
        with open(path, "wb") as fh:
            fh.write(self.canvas.png())
