"""Fit stopping distance against speed and plot it: parse -> clean -> train -> plots."""


def main(urd):
    parsed = urd.build("parse", filename="cars.csv")
    cleaned = urd.build("clean", source=parsed)
    model = urd.build("train", data=cleaned)
    urd.build("plot_data", data=cleaned).link_result("data.png")
    urd.build("plot_train", data=cleaned, model=model).link_result("graph.png")
