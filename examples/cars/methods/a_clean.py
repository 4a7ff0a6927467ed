description = """Turn parsed rows into numeric (speed km/h, distance m) points.

Rows with a missing or non-numeric value are dropped and counted."""

options = dict(metric=True)
jobs = ("source",)

MPH_TO_KMH = 1.609344
FT_TO_M = 0.3048


def synthesis(job):
    rows = jobs.source.load("rows.pickle")
    points, dropped = [], 0
    for row in rows:
        try:
            speed, dist = float(row["speed_mph"]), float(row["dist_ft"])
        except (KeyError, ValueError):
            dropped += 1
            continue
        if options.metric:
            speed, dist = speed * MPH_TO_KMH, dist * FT_TO_M
        points.append((speed, dist))
    job.save(points, "points.pickle")
    print(f"{len(points)} points, {dropped} rows dropped")
    return {"points": len(points), "dropped": dropped}
