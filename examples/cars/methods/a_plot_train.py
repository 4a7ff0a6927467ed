description = """The points and the fitted line: graph.png."""

jobs = ("data", "model")

from plotting import Plot  # noqa: E402


def synthesis(job):
    points = jobs.data.load("points.pickle")
    fit = jobs.model.load()
    a, b = fit["intercept"], fit["slope"]
    plot = Plot(points, xlabel="SPEED (KM/H)", ylabel="DIST (M)", title=f"DIST = {a:.2f} + {b:.3f} * SPEED")
    plot.points(points)
    # Draw the line only where it is inside the axes.
    x_start = max(plot.x0, (plot.y0 - a) / b) if b > 0 else plot.x0
    plot.line([(x, a + b * x) for x in (x_start, plot.x1)], color=(200, 40, 40))
    plot.save(job.filename("graph.png"))
    return {"png_bytes": len(open(job.filename("graph.png"), "rb").read())}
