"""The EDA report as one self-contained HTML page beside its PNG charts."""
from __future__ import annotations

from html import escape

STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}"
         "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;"
         "text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}img{max-width:100%}"
         ".warn{color:#a40000;font-weight:600}code{font-size:.9em}")


def table(header: list[str], rows: list[list], left: int = 1) -> str:
    """An HTML table; the first `left` columns are text, aligned left."""
    def cell(tag, i, value):
        return f"<{tag}{' class=l' if i < left else ''}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _counts_table(counts: dict[str, dict[str, int]]) -> str:
    splits = list(counts)
    classes = list(next(iter(counts.values())))
    totals = {split: sum(counts[split].values()) for split in splits}
    rows = [[c, *(counts[s][c] for s in splits), *(f"{counts[s][c] / max(totals[s], 1):.1%}" for s in splits)]
            for c in classes]
    rows.append(["total", *(totals[s] for s in splits), *("100%" for _ in splits)])
    return table(["class", *splits, *(f"{s} share" for s in splits)], rows)


def _duplicates_section(dup: dict) -> str:
    if not dup["groups"]:
        return "<p>No exact duplicates (same decoded pixels).</p>"
    leak = (f"<p class=warn>{dup['cross_split_groups']} duplicate groups span splits: "
            + escape(", ".join(f"{k}: {v}" for k, v in dup["cross_split"].items()))
            + ". Test images also seen in training inflate measured accuracy.</p>") if dup["cross_split_groups"] else (
        "<p>No duplicates across splits.</p>")
    conflict = (f"<p class=warn>{dup['label_conflicts']} duplicate groups carry different labels.</p>"
                if dup["label_conflicts"] else "")
    rows = [[i + 1, "; ".join(f"{m['split']}/{m['label']}: {m['key']}" for m in group)]
            for i, group in enumerate(dup["examples"])]
    return (f"<p>{dup['groups']} groups of identical images, {dup['extra_copies']} extra copies.</p>{leak}{conflict}"
            + table(["group", "copies (split/label: source)"], rows, left=2))


def render(report: dict) -> str:
    """The whole page from the report dict that `ml.eda.run` builds."""
    sizes, charts = report["sizes_and_modes"], report["charts"]
    pixel_rows = [[split, " ".join(p["channels"]), " ".join(f"{v:.1f}" for v in p["mean"]),
                   " ".join(f"{v:.1f}" for v in p["std"])] for split, p in report["pixels"].items()]
    size_rows = [[k, v] for k, v in sizes["sizes"].items()]
    return "\n".join([
        f"<!doctype html><html><head><meta charset=utf-8><title>EDA: {escape(report['data'])}</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>EDA: <code>{escape(report['data'])}</code></h1>",
        f"<p>{report['n']} images, {len(report['classes'])} classes, "
        f"splits: {escape(', '.join(report['counts']))}.</p>",
        "<h2>Class counts</h2>", _counts_table(report["counts"]),
        f"<img src='{charts['class_counts']}' alt='class counts'>",
        "<h2>Samples per class</h2>", f"<img src='{charts['samples']}' alt='samples per class'>",
        "<h2>Image sizes and modes</h2>",
        table(["mode", "images"], [[k, v] for k, v in sizes["modes"].items()]),
        f"<p>{sizes['distinct_sizes']} distinct sizes; width {sizes['width']['min']}–{sizes['width']['max']} "
        f"(median {sizes['width']['median']:g}), height {sizes['height']['min']}–{sizes['height']['max']} "
        f"(median {sizes['height']['median']:g}).</p>",
        table(["size (w×h)", "images"], size_rows), f"<img src='{charts['sizes']}' alt='image sizes'>",
        "<h2>Pixel statistics</h2><p>Per channel, on 0..255 pixels in the dataset's colour mode.</p>",
        table(["split", "channels", "mean", "std"], pixel_rows, left=2),
        f"<img src='{charts['brightness']}' alt='brightness per image'>",
        "<h2>Exact duplicates</h2>", _duplicates_section(report["duplicates"]),
        "</body></html>",
    ])
