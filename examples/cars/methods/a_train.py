description = """Least-squares fit of distance = intercept + slope * speed."""

jobs = ("data",)


def synthesis(job):
    points = jobs.data.load("points.pickle")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in points)
    ss_tot = sum((y - mean_y) ** 2 for _, y in points)
    model = {"slope": slope, "intercept": intercept, "r2": 1 - ss_res / ss_tot, "n": n}
    job.json_save(model, "model.json")
    print(f"distance = {intercept:.3f} + {slope:.4f} * speed   (r2 = {model['r2']:.3f})")
    return model
