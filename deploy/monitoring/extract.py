"""Reads the monitoring manifests for deploy/monitoring-check.sh.

    python extract.py WORK ALERTS_DIR DASHBOARDS_DIR RUNBOOKS_DIR

- Writes the rule groups of every PrometheusRule in ALERTS_DIR/*.yaml to
  WORK/rules/<file name>, as promtool reads rule files.
- Checks that every alert has `summary`, `description` and `runbook_url` annotations,
  that its runbook_url ends in `/<alert>.md`, and that RUNBOOKS_DIR/<alert>.md exists
  with every section in both languages.
- Writes every Grafana dashboard's panel expressions (DASHBOARDS_DIR/*.json, rows'
  panels included) to WORK/dashboards/<dashboard>.yaml as recording rules, so that
  `promtool check rules` parses each one; Grafana's variables are replaced first
  (`$__rate_interval` and the like by a duration, a template variable by `.*`, which
  every dashboard uses only inside a `=~` matcher).

Prints one line per problem and a summary line; exits 1 on any problem.
"""

import json
import os
import re
import sys

import yaml

REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
# What every runbook says, in English and in Simplified Chinese.
RUNBOOK_HEADINGS = (
    "## English", "### What it means", "### How to confirm it", "### What to do",
    "### When to escalate",
    "## 简体中文", "### 含义", "### 如何确认", "### 如何处理", "### 何时升级",
)


def panels_of(container):
    for panel in container.get("panels", []):
        yield panel
        yield from panels_of(panel)


def grafana_to_promql(expr):
    expr = re.sub(r"\$\{?__(rate_interval|interval|range)\}?", "5m", expr)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", expr)


def main():
    work, alerts_dir, dashboards_dir, runbooks_dir = sys.argv[1:5]
    problems = []
    os.makedirs(os.path.join(work, "rules"), exist_ok=True)
    os.makedirs(os.path.join(work, "dashboards"), exist_ok=True)

    alerts = set()
    for name in sorted(os.listdir(alerts_dir)):
        if not name.endswith(".yaml") or name == "kustomization.yaml":
            continue
        with open(os.path.join(alerts_dir, name)) as f:
            documents = [d for d in yaml.safe_load_all(f) if d]
        groups = []
        for document in documents:
            if document.get("kind") != "PrometheusRule":
                continue
            groups.extend(document["spec"]["groups"])
            for group in document["spec"]["groups"]:
                for rule in group["rules"]:
                    if "alert" not in rule:
                        continue
                    alert = rule["alert"]
                    alerts.add(alert)
                    annotations = rule.get("annotations", {})
                    for key in REQUIRED_ANNOTATIONS:
                        if not str(annotations.get(key, "")).strip():
                            problems.append("%s (%s): no %s annotation" % (alert, name, key))
                    url = annotations.get("runbook_url", "")
                    if url and not url.endswith("/%s.md" % alert):
                        problems.append("%s: runbook_url %s is not its runbook" % (alert, url))
        if groups:
            with open(os.path.join(work, "rules", name), "w") as f:
                yaml.safe_dump({"groups": groups}, f, sort_keys=False)
    for alert in sorted(alerts):
        runbook = os.path.join(runbooks_dir, alert + ".md")
        if not os.path.exists(runbook):
            problems.append("%s: no runbook %s" % (alert, runbook))
            continue
        with open(runbook) as f:
            text = f.read()
        for heading in RUNBOOK_HEADINGS:
            if "\n%s\n" % heading not in text:
                problems.append("%s: runbook has no '%s'" % (alert, heading))

    panels = 0
    dashboards = 0
    if os.path.isdir(dashboards_dir):
        for name in sorted(os.listdir(dashboards_dir)):
            if not name.endswith(".json"):
                continue
            dashboards += 1
            with open(os.path.join(dashboards_dir, name)) as f:
                dashboard = json.load(f)
            rules = []
            for panel in panels_of(dashboard):
                for target in panel.get("targets", []):
                    expr = target.get("expr")
                    if not expr:
                        continue
                    rules.append({
                        "record": "dashboard:panel_%d_%s" % (panel.get("id", 0), target.get("refId", "A")),
                        "expr": grafana_to_promql(expr),
                    })
            if not rules:
                problems.append("dashboard %s has no panel with a query" % name)
                continue
            panels += len(rules)
            stem = name[: -len(".json")]
            with open(os.path.join(work, "dashboards", stem + ".yaml"), "w") as f:
                yaml.safe_dump({"groups": [{"name": stem, "rules": rules}]}, f, sort_keys=False)

    for problem in problems:
        print("FAIL " + problem)
    print("extract: %d alerts, %d dashboards with %d panel queries, %d problems"
          % (len(alerts), dashboards, panels, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
