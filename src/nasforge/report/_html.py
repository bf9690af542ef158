"""The run report: one self-contained HTML file (figures as inline SVG, a few lines of inline script for the
table; nothing fetched, no server), and the same figures as PNGs beside it.

It reads only the run directory (:class:`~nasforge.report._run.RunView`), so it works for a run that is still
going, was interrupted or finished, from the CLI (``nasforge report``), after a search, and every few trials
during one (:class:`ReportCallback`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nasforge.atomic import write_atomic
from nasforge.callbacks import Callback, failure_as_warning
from nasforge.exceptions import cannot_write
from nasforge.objective import Objective
from nasforge.pareto import front_of
from nasforge.report._drawing import architecture_figure
from nasforge.report._plots import (
    choices_figure,
    curves_figure,
    distribution_figure,
    generations_figure,
    pareto_figure,
    progress_figure,
    save_png,
    supernet_figure,
    svg,
)
from nasforge.report._run import RunView
from nasforge.trial import Trial, TrialState, rank_key

__all__ = ["REPORT_FILE", "ReportCallback", "write_report"]

REPORT_FILE = "report.html"

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 40px;color:#222}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.muted{color:#666}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
figure{margin:0;border:1px solid #eee;border-radius:6px;padding:4px}figure svg{display:block}
#fig-winner{max-width:720px}
table.kv td{padding:2px 12px 2px 0;vertical-align:top}table.kv td:first-child{color:#666;white-space:nowrap}
code,pre{font:12px ui-monospace,monospace}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:360px}
#trials{border-collapse:collapse;width:100%;font-size:12px}
#trials th{position:sticky;top:0;background:#f0f0f0;cursor:pointer;text-align:left;padding:4px;user-select:none}
#trials th.asc::after{content:" \\25B2"}#trials th.desc::after{content:" \\25BC"}
#trials td{padding:3px 4px;border-top:1px solid #eee;vertical-align:top}#trials td.arch{font-family:monospace;
word-break:break-all;max-width:420px}.n{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td,tr.rejected td{color:#a33}tr.pruned td{color:#777}.controls{margin:6px 0}
.controls input{width:300px;padding:3px}.tablebox{max-height:640px;overflow:auto;border:1px solid #eee}
"""

_SCRIPT = """
(function(){
  var table=document.getElementById('trials'); if(!table) return;
  var body=table.tBodies[0], heads=table.tHead.rows[0].cells;
  function key(row,col){var c=row.cells[col],v=c.getAttribute('data-v');
    if(v===null) v=c.textContent; var n=parseFloat(v); return isNaN(n)?v.toLowerCase():n;}
  Array.prototype.forEach.call(heads,function(th,col){th.addEventListener('click',function(){
    var asc=!th.classList.contains('asc');
    Array.prototype.forEach.call(heads,function(h){h.classList.remove('asc','desc');});
    th.classList.add(asc?'asc':'desc');
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a,col),y=key(b,col);
      if(typeof x!==typeof y){x=String(x);y=String(y);} return (x<y?-1:x>y?1:0)*(asc?1:-1);});
    var frag=document.createDocumentFragment(); rows.forEach(function(r){frag.appendChild(r);});
    body.appendChild(frag);});});
  var text=document.getElementById('filter'), state=document.getElementById('state'),
      shown=document.getElementById('shown');
  function filter(){var q=text.value.toLowerCase(), s=state.value, n=0;
    Array.prototype.forEach.call(body.rows,function(r){
      var ok=(!s||r.getAttribute('data-state')===s)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
      r.style.display=ok?'':'none'; n+=ok;});
    shown.textContent=n+' of '+body.rows.length+' trials shown';}
  text.addEventListener('input',filter); state.addEventListener('change',filter);
  shown.textContent=body.rows.length+' of '+body.rows.length+' trials shown';
})();
"""


def write_report(run_dir: str | Path, out: str | Path | None = None, pngs: bool = True) -> dict[str, Path]:
    """Write the run's report (``out``, default ``RUN_DIR/report.html``) and, with ``pngs``, each of its
    figures as a PNG in the run directory; returns the paths written by name (``report``, ``progress``, ...)."""
    view = RunView.load(run_dir)
    figures = _figures(view)
    written: dict[str, Path] = {}
    parts = []
    for name, (caption, make) in figures.items():
        fig = make()
        if fig is None:
            continue
        if pngs:
            written[name] = save_png(fig, view.path / f"{name}.png", close=False)
        parts.append((name, caption, svg(fig)))
    page = _page(view, parts)
    target = Path(out) if out is not None else view.path / REPORT_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    write_atomic(target, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))  # a browser mid-run sees it whole
    written["report"] = target
    return written


class ReportCallback(Callback):
    """Keeps ``RUN_DIR/report.html`` current during a search: rewritten after every ``every`` trials that
    ended, and when the search stops (unless the caller writes the final one, with the winner, after it).

    A report of thousands of trials takes seconds to draw, so a rewrite is skipped while the time spent on
    them exceeds ``max_share`` of the search's time so far: the report costs the search at most about that.
    A report that cannot be written (a full disk, a figure that fails) is a warning: the runner calls callbacks
    without catching, and a page to watch is not worth the rest of the search.
    """

    def __init__(self, run_dir: str | Path, every: int = 10, max_share: float = 0.05, at_end: bool = True) -> None:
        """``at_end=False``: the caller writes the final report itself once the search ends (as
        :func:`nasforge.search` does, with the winner), so only an interrupted search gets one from here."""
        self.run_dir = Path(run_dir)
        self.every = every
        self.max_share = max_share
        self.at_end = at_end
        self._ended = 0
        self._started = time.monotonic()
        self._spent = 0.0

    def on_search_start(self, run: Any) -> None:
        self._started = time.monotonic()

    def on_trial_end(self, run: Any, trial: Trial) -> None:
        self._ended += 1
        if not self.every or self._ended % self.every:
            return
        if self._spent > self.max_share * (time.monotonic() - self._started):
            return
        self._write()

    def on_search_end(self, run: Any, reason: str) -> None:
        if self.at_end or reason == "interrupted":
            self._write()

    def _write(self) -> None:
        began = time.monotonic()
        with failure_as_warning(f"report: {self.run_dir / REPORT_FILE} not written"):  # whatever drawing raises
            write_report(self.run_dir, pngs=False)
        self._spent += time.monotonic() - began


def _figures(view: RunView) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Every figure the run has data for, by name, with its caption and a function that draws it."""
    trials, objective = list(view.trials), view.objective
    winner = _winner(view)
    out: dict[str, tuple[str, Callable[[], Any]]] = {
        "progress": (
            "Validation score of every trial in the order they ended, and the best so far.",
            lambda: progress_figure(trials, objective),
        ),
    }
    population = (view.search.get("strategy") or {}).get("population")
    if isinstance(population, int) and population > 1:
        out["generations"] = (
            f"Best, median and worst of each generation ({population} trials, the strategy's population).",
            lambda: generations_figure(trials, objective, population),
        )
    out["distribution"] = ("How the finished trials' scores spread.", lambda: distribution_figure(trials, objective))
    trade_off = _trade_off(view)
    if trade_off is not None:
        front_objective, front, returned, caption = trade_off
        out["pareto"] = (caption, lambda: pareto_figure(trials, front, front_objective, returned))
    supernet = view.meta.get("supernet")
    if supernet:
        out["supernet"] = (
            "One-shot search: the architecture weights of every edge over the supernet's epochs; the cell is "
            "derived from the largest weight on each edge.",
            lambda: supernet_figure(supernet),
        )
    if any(len(t.curve) > 1 for t in trials):
        out["curves"] = (
            "Validation score per epoch of every trial; the winner in red.",
            lambda: curves_figure(trials, objective, winner.id if winner else None),
        )
    if view.space is not None:
        space = view.space
        out["choices"] = (
            "Which choices the best trials share: the share of each choice among the best 10% of finished "
            "trials against all of them, for the decisions where the two differ most.",
            lambda: choices_figure(trials, space),
        )
        if winner is not None:
            out["winner"] = ("The winner's architecture.", lambda: architecture_figure(space, winner.arch))
    return out


def _winner(view: RunView) -> Trial | None:
    """The trial the run returned (``best.json``), else the one it would return now: the best so far, or in a
    one-shot run the cell derived at the last recorded epoch (:meth:`~nasforge.run.Run.best_trial`)."""
    by_id = {t.id: t for t in view.trials}
    if view.best is not None and view.best.get("trial") in by_id:
        return by_id[view.best["trial"]]
    finished = [t for t in view.trials if t.state is TrialState.FINISHED and t.repeat_of is None]
    if not finished:
        return None
    return finished[-1] if view.meta.get("supernet") else min(finished, key=rank_key)


def _trade_off(view: RunView) -> tuple[Objective, list[Trial], list[Trial], str] | None:
    """The Pareto front to draw: the run's own objectives, or its metric against the parameter count."""
    objective = view.objective
    if objective.multi:
        caption = "The Pareto front of the run's objectives; stars: the points retrained and tested."
    elif any("params" in t.costs for t in view.trials):
        objective = Objective(metrics=(objective.metric, "params"))
        caption = f"Trade-off of validation {objective.metric} against parameters; the line: the non-dominated trials."
    else:
        return None
    front = front_of(list(view.trials), objective)
    if not front:
        return None
    tested = set((view.meta.get("final") or {}).get("front", []))
    return objective, front, [t for t in view.trials if t.id in tested], caption


def _page(view: RunView, figures: list[tuple[str, str, str]]) -> str:
    esc = html.escape
    status = (
        "finished: the winner was retrained and tested"
        if view.finished
        else "running, interrupted or not yet tested (this report shows the trials stored so far)"
    )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        f"<h1>nasforge run: {esc(view.name)}</h1>",
        f'<div class="muted">{esc(str(view.path))} &middot; {esc(status)} &middot; report written {now}</div>',
        "<h2>Summary</h2>",
        _summary(view),
    ]
    if view.best is not None or figures:
        sections.append("<h2>Winner</h2>" + _winner_block(view, figures))
    plots = [f for f in figures if f[0] != "winner"]
    if plots:
        sections.append('<h2>The search</h2><div class="grid">')
        sections += [
            f'<figure id="fig-{name}">{image}<figcaption class="muted">{esc(caption)}</figcaption></figure>'
            for name, caption, image in plots
        ]
        sections.append("</div>")
    sections.append("<h2>Trials</h2>" + _table(view))
    config = view.meta.get("config") or view.search
    sections.append("<h2>Configuration</h2><pre>" + esc(yaml.safe_dump(config, sort_keys=False)) + "</pre>")
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>nasforge: {esc(view.name)}</title><style>{_CSS}</style></head>\n"
        f"<body>\n{body}\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def _kv(pairs: list[tuple[str, str]]) -> str:
    """A two-column table of already escaped labels and values."""
    return '<table class="kv">' + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in pairs) + "</table>"


def _summary(view: RunView) -> str:
    esc = html.escape
    search, config = view.search, view.meta.get("config") or {}
    strategy = dict(search.get("strategy") or {})
    space = dict(search.get("space") or {})
    counts = (
        ", ".join(f"{view.count(state)} {state.value}" for state in TrialState if view.count(state)) or "no trials yet"
    )
    data = view.meta.get("data") or (view.best or {}).get("data") or {}
    pairs = [
        ("space", esc(str(space.get("type", "?")))),
        ("strategy", esc(json.dumps(strategy))),
        ("objective", esc(view.objective.describe())),
        ("seed", esc(str(search.get("seed", "?")))),
    ]
    if data:
        sizes = data.get("sizes", {})
        pairs.append(
            (
                "data",
                esc(
                    f"{data.get('name')}: {data.get('task')}, input {data.get('input_shape')}, "
                    f"train/valid/test {sizes.get('train')}/{sizes.get('valid')}/{sizes.get('test')}"
                ),
            )
        )
    if config.get("budget"):
        pairs.append(("budget", esc(json.dumps(config["budget"]))))
    used = f"{counts}; {view.elapsed:.0f} s of search"
    if view.best is not None and view.best.get("search"):
        used += f"; stopped by {view.best['search'].get('stopped_by')}"
    pairs.append(("used", esc(used)))
    if view.meta.get("warm_start"):
        pairs.append(("warm start", esc(json.dumps(view.meta["warm_start"]))))
    return _kv(pairs)


def _winner_block(view: RunView, figures: list[tuple[str, str, str]]) -> str:
    esc = html.escape
    best = view.best
    winner = _winner(view)
    pairs = []
    if best is not None:
        trial = esc(str(best.get("trial")))  # best.json may come from someone else: nothing of it is markup
        pairs.append(("architecture", f"<code>{esc(str(best.get('arch')))}</code> (trial {trial})"))
        pairs.append(("validation", esc(_metrics(best.get("validation", {})))))
        test = _metrics(best.get("test", {}))
        if best.get("test_std"):
            test += f" (mean of {len(best.get('test_seeds', []))} retrainings; sd {_metrics(best['test_std'])})"
        pairs.append(("test (once, retrained on train+validation)", esc(test)))
        pairs.append(("costs", esc(_metrics(best.get("costs", {})))))
        files = [v for v in (best.get("export") or {}).values() if isinstance(v, str) and "." in v]
        links = [f'<a href="{esc(f)}">{esc(f)}</a>' for f in ["best.json", *files] if (view.path / f).exists()]
        pairs.append(("files", " ".join(links)))
    elif winner is not None:
        pairs.append(
            (
                "best so far",
                f"<code>{esc(winner.arch)}</code> (trial {winner.id}), validation "
                + esc(_metrics(winner.metrics))
                + "; not yet retrained or tested",
            )
        )
    drawing = next((image for name, _, image in figures if name == "winner"), "")
    return _kv(pairs) + (f'<figure id="fig-winner">{drawing}</figure>' if drawing else "")


def _metrics(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {_number(v)}" for k, v in values.items())


def _number(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3g}"
    return str(value)


def _table(view: RunView) -> str:
    esc = html.escape
    metrics = list(dict.fromkeys(k for t in view.trials for k in t.metrics))
    costs = [c for c in ("params", "flops", "latency_ms", "size_kb") if any(c in t.costs for t in view.trials)]
    heads = ["id", "state", "kind", "architecture", "score", *metrics, *costs, "train s", "ended at s", "error"]
    rows = []
    for t in view.trials:
        kind = (
            f"repeat of {t.repeat_of}"
            if t.repeat_of is not None
            else f"promotion of {t.parent}"
            if t.parent is not None
            else "search"
        )
        cells = [
            _cell(t.id),
            f"<td>{t.state.value}</td>",
            f"<td>{esc(kind)}</td>",
            f'<td class="arch">{esc(t.arch)}</td>',
            _cell(t.score),
            *(_cell(t.metrics.get(m)) for m in metrics),
            *(_cell(t.costs.get(c)) for c in costs),
            _cell(t.costs.get("train_seconds")),
            _cell(t.elapsed),
            f"<td>{esc(t.error or '')}</td>",
        ]
        rows.append(f'<tr class="{t.state.value}" data-state="{t.state.value}">{"".join(cells)}</tr>')
    states = "".join(f'<option value="{s.value}">{s.value}</option>' for s in TrialState if view.count(s))
    controls = (
        '<div class="controls"><input id="filter" type="search" placeholder="filter: any text in a row">'
        f' <select id="state"><option value="">every state</option>{states}</select>'
        ' <span id="shown" class="muted"></span> <span class="muted">(click a column to sort)</span></div>'
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return (
        f'{controls}<div class="tablebox"><table id="trials"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell(value: Any) -> str:
    """A number's cell; where the text is rounded, the sort key (``data-v``) keeps 8 significant digits.
    Kept short: a 2,000-trial table is most of a report's weight."""
    if value is None:
        return "<td class=n></td>"
    text = _number(value)
    exact = f"{value:.8g}" if isinstance(value, float) else str(value)
    return f"<td class=n>{text}</td>" if text == exact else f"<td class=n data-v={exact}>{text}</td>"
