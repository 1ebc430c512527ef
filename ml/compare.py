"""Train several architectures on the same data and compare them on the test split through the serving path."""
from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ml import artifact, data, metrics
from ml.architectures import ARCHITECTURES, TRANSFER_APPS, describe
from ml.recognizers import Recognizer
from ml.train import TrainConfig, split_validation, train

DEFAULT_ARCHS = ("mlp_small", "mlp", "cnn_tiny", "cnn_small", "cnn")
# Single images timed for latency, after warm-up runs that allocate the interpreter.
LATENCY_IMAGES, LATENCY_WARMUP = 50, 5
COLUMNS = [("arch", "architecture"), ("accuracy", "test accuracy"), ("macro_f1", "test macro-F1"),
           ("val_accuracy", "val accuracy"), ("parameters", "parameters"), ("train_seconds", "training s"),
           ("epochs_run", "epochs"), ("latency_ms", "latency ms/image"), ("lite_kb", "LiteRT KB")]
SCORES = {"accuracy", "macro_f1", "val_accuracy"}


def is_transfer(arch: str) -> bool:
    """Whether an architecture starts from features learnt elsewhere (a weights file or one of our models)."""
    return arch.startswith(("from:", "transfer:"))


def run_name(arch: str) -> str:
    """A folder name for an architecture's artifact, e.g. from:runs/emotion7 -> from-emotion7."""
    if arch.startswith("from:"):
        arch = "from-" + Path(arch.split(":", 1)[1]).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", arch)


def limit(dataset: data.Dataset, n: int | None, seed: int) -> data.Dataset:
    """At most `n` images, drawn stratified by class so small classes stay represented."""
    if not n or n >= len(dataset):
        return dataset
    _, chosen = split_validation(dataset.labels, n / len(dataset), seed)
    return dataset.subset(chosen)


def latency_ms(artifact_dir: Path, images: list) -> float:
    """Median milliseconds to classify one raw image (preprocessing, faces, LiteRT) as the web app does."""
    from ml.serving import Classifier, classify  # noqa: PLC0415

    classifier = Classifier(artifact_dir, threads=1)
    for image in images[:LATENCY_WARMUP]:
        classify(classifier, image)
    times = []
    for image in images[:LATENCY_IMAGES]:
        started = time.perf_counter()
        classify(classifier, image)
        times.append(1000 * (time.perf_counter() - started))
    return round(statistics.median(times), 3)


def measure(recognizer: Recognizer, run_dir: Path, test: data.Dataset, raw_images: list) -> tuple[dict, np.ndarray]:
    """Test-split figures of one trained artifact through the LiteRT serving path, and which images it got right."""
    from ml.evaluate import predict_dataset  # noqa: PLC0415
    from ml.serving import Classifier

    meta = artifact.read_metadata(run_dir)
    probs = predict_dataset(Classifier(run_dir, threads=None), test.images)
    scores = metrics.summary(test.labels, probs, recognizer.classes)
    validation = (meta.get("metrics") or {}).get("validation") or {}
    return {"accuracy": round(scores["accuracy"], 4), "macro_f1": round(scores["macro_f1"], 4),
            "val_accuracy": round(validation["accuracy"], 4) if validation else None,
            "parameters": meta["parameters"], "train_seconds": meta["training"]["seconds_this_run"],
            "epochs_run": meta["training"]["epochs_run"], "latency_ms": latency_ms(run_dir, raw_images),
            "lite_kb": round((run_dir / artifact.LITE_FILE).stat().st_size / 1024, 1),
            "artifact": str(run_dir)}, probs.argmax(axis=1) == test.labels


def mcnemar_p(a_correct: np.ndarray, b_correct: np.ndarray) -> float:
    """Exact McNemar test: how likely the two models' disagreements split this unevenly by chance."""
    from scipy.stats import binomtest  # noqa: PLC0415

    only_a, only_b = int(np.sum(a_correct & ~b_correct)), int(np.sum(~a_correct & b_correct))
    return 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b).pvalue)


def transfer_verdicts(rows: list[dict], correct: dict[str, np.ndarray]) -> list[dict]:
    """For each transfer run: does it beat the best model trained from scratch on test accuracy, and how surely?"""
    scratch = [r for r in rows if not is_transfer(r["arch"])]
    if not scratch:
        return []
    rival = max(scratch, key=lambda r: r["accuracy"])
    return [{"arch": r["arch"], "versus": rival["arch"],
             "accuracy_gain": round(r["accuracy"] - rival["accuracy"], 4),
             "macro_f1_gain": round(r["macro_f1"] - rival["macro_f1"], 4),
             "beats_scratch": r["accuracy"] > rival["accuracy"],
             "mcnemar_p": round(mcnemar_p(correct[r["arch"]], correct[rival["arch"]]), 4)}
            for r in rows if is_transfer(r["arch"])]


def choose(rows: list[dict]) -> dict:
    """The best run: highest validation accuracy (the test split must not pick), then fewest parameters."""
    return max(rows, key=lambda r: (r["val_accuracy"] if r["val_accuracy"] is not None else -1.0, -r["parameters"]))


def markdown(report: dict) -> str:
    """The comparison as a markdown table with the choice and the transfer verdicts under it."""
    def cell(key, value):
        return "–" if value is None else f"{value:.4f}" if key in SCORES else str(value)

    lines = [f"# {report['recognizer']}: architectures compared on {report['data']}", "",
             f"Train split `{report['train_split']}` ({report['train_n']} images, validation carved from it), "
             f"test split `{report['test_split']}` ({report['test_n']} images); {report['epochs']} epochs at most, "
             f"seed {report['seed']}. Latency: median of single raw images through the LiteRT serving path, 1 thread.",
             "", "| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(key, row[key]) for key, _ in COLUMNS) + " |" for row in report["runs"]]
    lines += ["", f"Best (highest validation accuracy, then fewest parameters): **{report['best']['arch']}**, "
              f"test accuracy {report['best']['accuracy']:.4f}, macro-F1 {report['best']['macro_f1']:.4f}."]
    for v in report["transfer"]:
        verdict = "beats" if v["beats_scratch"] else "does not beat"
        sure = "significant" if v["mcnemar_p"] < 0.05 else "not significant"
        lines.append(f"- Transfer `{v['arch']}` {verdict} training from scratch (`{v['versus']}`): "
                     f"accuracy {v['accuracy_gain']:+.4f}, macro-F1 {v['macro_f1_gain']:+.4f} "
                     f"(McNemar p={v['mcnemar_p']:.3g}, {sure} at 5%).")
    return "\n".join(lines) + "\n"


def check_archs(archs: list[str]) -> None:
    """Refuse unknown names before any training starts, so a typo in the last one costs no hours."""
    if not archs:
        raise ValueError("no architectures to compare")
    for arch in archs:
        kind, _, rest = arch.partition(":")
        if arch.startswith("from:"):
            artifact.read_metadata(rest)
        elif not (arch in ARCHITECTURES or (kind == "transfer" and rest in TRANSFER_APPS)):
            raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(describe())}")


def compare(recognizer: Recognizer, data_path: str, archs: list[str], out_dir: str | Path, config: TrainConfig,
            train_split: str = "train", test_split: str = "test", max_images: int | None = None) -> dict:
    """Train every architecture with the same data, seed and budget; write comparison.md and .json."""
    check_archs(archs)
    out = Path(out_dir)
    samples = data.read_samples(data_path)
    train_set = limit(data.to_dataset(samples, recognizer, train_split, data_path), max_images, config.seed)
    test_set = limit(data.to_dataset(samples, recognizer, test_split, data_path), max_images, config.seed)
    raw = [s.image for s in samples if s.split == test_split and s.label in recognizer.classes]
    raw = [raw[i] for i in np.random.default_rng(config.seed).permutation(len(raw))[:LATENCY_IMAGES]]
    rows, correct = [], {}
    for arch in archs:
        run_dir = train(recognizer, train_set, out / run_name(arch), replace(config, arch=arch))
        figures, correct[arch] = measure(recognizer, run_dir, test_set, raw)
        rows.append({"arch": arch, **figures})
        print(f"{arch}: test accuracy {rows[-1]['accuracy']:.4f}, macro-F1 {rows[-1]['macro_f1']:.4f}", flush=True)
    report = {"recognizer": recognizer.name, "data": str(data_path), "train_split": train_split,
              "test_split": test_split, "train_n": len(train_set), "test_n": len(test_set),
              "epochs": config.epochs, "seed": config.seed, "runs": rows, "best": choose(rows),
              "transfer": transfer_verdicts(rows, correct)}
    (out / "comparison.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "comparison.md").write_text(markdown(report))
    return report
