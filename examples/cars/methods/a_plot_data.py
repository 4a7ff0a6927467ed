description = """Scatter plot of the cleaned points: data.png."""

jobs = ("data",)

from plotting import Plot  # noqa: E402  (beside this method: its edits re-run this job)


def synthesis(job):
    points = jobs.data.load("points.pickle")
    plot = Plot(points, xlabel="SPEED (KM/H)", ylabel="DIST (M)", title="CARS: STOPPING DISTANCE")
    plot.points(points)
    plot.save(job.filename("data.png"))
