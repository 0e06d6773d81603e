#!/usr/bin/python3
"""Train tern's built-in demo model, house-price-estimator, and export it to ONNX.

A scikit-learn RandomForestRegressor is fitted on a synthetic but realistic
house-sales data set with the 18 features of the Wallaroo edge log example, then
its trees are written by hand as one `ai.onnx.ml` TreeEnsembleRegressor
(input `tensor` float32 [N,18], output `variable` float32 [N,1]).

Outputs (committed):
  assets/demo/house-price-estimator.onnx
  tests/testdata/house_price_reference.json  (1,000 fixed rows + sklearn predictions)

Run with Debian's interpreter, which has python3-sklearn and python3-onnx:
  /usr/bin/python3 scripts/train_demo_model.py
The run is deterministic (fixed seeds), so the files only change when this script does.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.ensemble import RandomForestRegressor

FEATURES = [
    "bedrooms", "bathrooms", "sqft_living", "sqft_lot", "floors", "waterfront",
    "view", "condition", "grade", "sqft_above", "sqft_basement", "lat", "long",
    "sqft_living15", "sqft_lot15", "age", "renovated", "yrs_since_reno",
]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_PATH = os.path.join(ROOT, "assets", "demo", "house-price-estimator.onnx")
REFERENCE_PATH = os.path.join(ROOT, "tests", "testdata", "house_price_reference.json")


def synthesize(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """House sales shaped like King County's: sizes, grades, location, age; price in dollars."""
    bedrooms = np.clip(rng.poisson(3.3, n), 1, 9).astype(np.float64)
    bathrooms = np.clip(np.round((bedrooms * 0.55 + rng.normal(0.4, 0.5, n)) * 4) / 4, 0.75, 6)
    sqft_living = np.clip(np.round(bedrooms * 520 + bathrooms * 300 + rng.normal(0, 380, n), -1), 380, 9000)
    floors = rng.choice([1.0, 1.5, 2.0, 2.5, 3.0], n, p=[0.49, 0.09, 0.38, 0.01, 0.03])
    sqft_basement = np.where(rng.random(n) < 0.4, np.round(sqft_living * rng.uniform(0.1, 0.45, n), -1), 0.0)
    sqft_above = sqft_living - sqft_basement
    sqft_lot = np.clip(np.round(rng.lognormal(8.95, 0.75, n)), 600, 400000)
    waterfront = (rng.random(n) < 0.008).astype(np.float64)
    view = np.where(waterfront > 0, 4.0, rng.choice([0.0, 1.0, 2.0, 3.0, 4.0], n, p=[0.9, 0.016, 0.045, 0.025, 0.014]))
    condition = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], n, p=[0.002, 0.008, 0.65, 0.26, 0.08])
    grade = np.clip(np.round(4.5 + sqft_living / 900 + rng.normal(0, 0.8, n)), 3, 13)
    lat = np.round(rng.uniform(47.16, 47.78, n), 4)
    long = np.round(rng.uniform(-122.52, -121.32, n), 3)
    sqft_living15 = np.clip(np.round(sqft_living * 0.6 + rng.normal(800, 300, n), -1), 400, 6200)
    sqft_lot15 = np.clip(np.round(sqft_lot * rng.uniform(0.6, 1.3, n)), 650, 870000)
    age = np.clip(np.round(rng.gamma(2.2, 20, n)), 0, 115)
    renovated = ((rng.random(n) < 0.045) & (age > 15)).astype(np.float64)
    yrs_since_reno = np.where(renovated > 0, np.round(age * rng.uniform(0.05, 0.8, n)), 0.0)

    # Price: size and quality drive it, the north-west (Seattle, Bellevue) is dearer,
    # waterfront and views add a premium, old unrenovated houses lose value.
    location = np.exp(-((lat - 47.62) ** 2) / 0.02 - ((long + 122.25) ** 2) / 0.08)
    price = (
        140 * sqft_living * (1 + 0.9 * location)
        + 32000 * (grade - 7) * (1 + 0.05 * (grade - 7) ** 2)
        + 650000 * waterfront
        + 45000 * view
        + 18000 * (condition - 3)
        + 8 * np.sqrt(sqft_lot)
        - 900 * age * (1 - renovated)
        + 40000 * renovated
        + 8000 * bathrooms
    )
    price = np.maximum(price * rng.lognormal(0, 0.12, n), 75000)
    X = np.column_stack([
        bedrooms, bathrooms, sqft_living, sqft_lot, floors, waterfront, view, condition, grade,
        sqft_above, sqft_basement, lat, long, sqft_living15, sqft_lot15, age, renovated, yrs_since_reno,
    ])
    # Values that users send are what float32 holds: keep the reference rows exact in JSON.
    return X.astype(np.float32).astype(np.float64), np.round(price, -2)


def float32_floor(x: float) -> float:
    """Largest float32 <= x: for a float32 input v, v <= x  <=>  v <= float32_floor(x)."""
    f = np.float32(x)
    if float(f) > x:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def to_onnx(forest: RandomForestRegressor) -> onnx.ModelProto:
    """Write every tree of the forest into one TreeEnsembleRegressor that averages them."""
    attrs: dict[str, list] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
        "nodes_truenodeids", "nodes_falsenodeids", "target_treeids", "target_nodeids",
        "target_ids", "target_weights")}
    for tree_id, estimator in enumerate(forest.estimators_):
        t = estimator.tree_
        for node in range(t.node_count):
            leaf = t.children_left[node] == -1
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node)
            attrs["nodes_featureids"].append(0 if leaf else int(t.feature[node]))
            # sklearn compares float32(x) <= threshold (float64): the float32 floor keeps that exact.
            attrs["nodes_values"].append(0.0 if leaf else float32_floor(t.threshold[node]))
            attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            attrs["nodes_truenodeids"].append(0 if leaf else int(t.children_left[node]))
            attrs["nodes_falsenodeids"].append(0 if leaf else int(t.children_right[node]))
            if leaf:
                attrs["target_treeids"].append(tree_id)
                attrs["target_nodeids"].append(node)
                attrs["target_ids"].append(0)
                attrs["target_weights"].append(float(t.value[node][0][0]))
    node = helper.make_node(
        "TreeEnsembleRegressor", ["tensor"], ["variable"], domain="ai.onnx.ml",
        n_targets=1, aggregate_function="AVERAGE", post_transform="NONE", **attrs)
    graph = helper.make_graph(
        [node], "house-price-estimator",
        [helper.make_tensor_value_info("tensor", TensorProto.FLOAT, ["N", len(FEATURES)])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", 1])])
    model = helper.make_model(graph, producer_name="tern scripts/train_demo_model.py", opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)])
    model.ir_version = 8
    model.doc_string = "Random forest house price regressor; features: " + ",".join(FEATURES)
    onnx.checker.check_model(model)
    return model


def main() -> int:
    rng = np.random.default_rng(20261125)
    X, y = synthesize(rng, 20000)
    forest = RandomForestRegressor(n_estimators=30, max_depth=10, min_samples_leaf=4, random_state=7, n_jobs=1)
    forest.fit(X, y)
    model = to_onnx(forest)
    onnx.save(model, MODEL_PATH)

    sample, _ = synthesize(np.random.default_rng(7), 1000)
    reference = {
        "features": FEATURES,
        "inputs": sample.tolist(),
        "predictions": forest.predict(sample).tolist(),
    }
    with open(REFERENCE_PATH, "w") as f:
        json.dump(reference, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {MODEL_PATH} ({os.path.getsize(MODEL_PATH)} bytes), {REFERENCE_PATH}; "
          f"train R^2 {forest.score(X, y):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
