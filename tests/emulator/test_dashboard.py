"""The CloudWatch dashboard (PipelineDashboard in template.yaml), rendered for
given parameter values, with and without the inference API. No emulator: the
body is the template's, resolved by scripts/template_rules.py (cloud-radar)
and read by scripts/render_dashboard.py, which also draws
docs/images/dashboard.svg.

* The body is valid JSON and every widget fits CloudWatch's 24-column grid
  without overlapping another.
* Every metric of the namespace MLOpsPipeline that the dashboard shows, as a
  metric or in a SEARCH expression, is one the functions publish, with its
  dimensions and stage, exactly as EMF_METRICS below says; and every metric
  there is on the dashboard. EMF_METRICS is the one list to check against the
  functions' code (shared/src/metrics.rs and each function's outcome).
* The AWS metrics name resources of the template (functions, queues, the
  endpoint and its variant, the HTTP API); every queue and every function is on
  the dashboard.
* Every metric widget is in the stack's region; the inference API's widgets
  exist only with the API; the stack output DashboardUrl opens the dashboard.
* docs/images/dashboard.svg is the picture of the current template.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import render_dashboard  # noqa: E402
import template_rules  # noqa: E402

TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"  # not the renderer's default: the body must take the stack's
PIPELINE = "fraud-model"

# ---------------------------------------------------------------------------
# The functions' metrics (namespace MLOpsPipeline, Embedded Metric Format): the
# one list to check against the code. Name -> (the stages that publish it, its
# dimension sets). Counts have Unit Count and are shown as Sum.
NAMESPACE = "MLOpsPipeline"
STAGES = ("trigger", "retrain", "evaluate", "register", "deploy", "serve")
PS = ("Pipeline", "Stage")
EMF_METRICS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    # every stage: it did its action / an event led to nothing / it failed
    # (serve: a request answered 5xx or throttled; its answers are below)
    "Started": (STAGES[:-1], (PS,)),
    "Skipped": (STAGES[:-1], (PS, PS + ("Reason",))),
    "Failed": (STAGES, (PS, PS + ("ErrorType",))),
    # retrain_model_on_new_data
    "ObjectsReceived": (("retrain",), (PS,)),
    "SchedulesCreated": (("retrain",), (PS,)),
    "ProcessingJobsStarted": (("retrain",), (PS,)),
    # evaluate_model_function; ModelQuality: one trained model's value of a metric
    "EvaluationsPassed": (("evaluate",), (PS,)),
    "EvaluationsFailed": (("evaluate",), (PS,)),
    "ModelQuality": (("evaluate",), (PS + ("Metric",),)),
    # deploy_sagemaker_model
    "DeploymentsCreated": (("deploy",), (PS,)),
    "DeploymentsUpdated": (("deploy",), (PS,)),
    "DeploymentsStaged": (("deploy",), (PS,)),
    "DeploymentsRolledBack": (("deploy",), (PS,)),
    "DeploymentsFailed": (("deploy",), (PS, PS + ("Cause",))),
    "SmokeTestsFailed": (("deploy",), (PS,)),
    "AutoscalingRegistered": (("deploy",), (PS,)),
    # serve_predictions
    "Predictions": (("serve",), (PS,)),
    "ClientErrors": (("serve",), (PS, PS + ("ErrorType",))),
}
NOT_COUNTS = {"ModelQuality"}  # a model's metric, in its own unit
# The values of the class dimensions (documented in docs/operating.md).
REASONS = ("not_applicable", "already_done", "waiting", "blocked")
CAUSES = ("smoke_test", "rolled_back", "endpoint_failed")

# AWS metrics the dashboard may show, by namespace: the dimension names they take.
AWS_METRICS = {
    "AWS/Lambda": ({"Invocations", "Errors", "Throttles", "Duration"}, ("FunctionName",)),
    "AWS/SQS": ({"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}, ("QueueName",)),
    "AWS/SageMaker": (
        {"Invocations", "InvocationsPerInstance", "ModelLatency", "Invocation4XXErrors", "Invocation5XXErrors"},
        ("EndpointName", "VariantName"),
    ),
    "/aws/sagemaker/Endpoints": ({"CPUUtilization"}, ("EndpointName", "VariantName")),
    # An HTTP API's metrics (a REST API's would be 4XXError, 5XXError).
    "AWS/ApiGateway": ({"Count", "4xx", "5xx", "Latency", "IntegrationLatency"}, ("ApiId",)),
}


@pytest.fixture(scope="module")
def template() -> dict:
    return template_rules.decode(str(TEMPLATE))


def render(template: dict, **parameters: str) -> tuple[str, dict]:
    return render_dashboard.render({"PipelineName": PIPELINE, **parameters}, region=REGION, template=template)


@pytest.fixture(scope="module")
def with_api(template) -> dict:
    return render(template, CreateInferenceApi="true")[1]


@pytest.fixture(scope="module")
def without_api(template) -> dict:
    return render(template, CreateInferenceApi="false")[1]


@pytest.fixture(scope="module", params=["with_api", "without_api"])
def dashboard(request) -> dict:
    return request.getfixturevalue(request.param)


def metric_widgets(dashboard: dict) -> list[dict]:
    return [w for w in dashboard["widgets"] if w["type"] == "metric"]


def rows(dashboard: dict) -> list[tuple[dict, dict]]:
    """(widget, row) for every entry of every metric widget's metrics array."""
    return [(w, row) for w in metric_widgets(dashboard) for row in render_dashboard.metric_rows(w)]


def pipeline_metrics(dashboard: dict) -> list[tuple[str, str, tuple[str, ...], str | None, str]]:
    """Every MLOpsPipeline metric the dashboard shows: (where, name, dimension
    names, stage or None for a search, statistic)."""
    found = []
    for widget, row in rows(dashboard):
        where = widget["properties"].get("title", "?")
        stat = row["options"].get("stat", widget["properties"].get("stat"))
        if "expression" in row:
            search = row["search"]
            if search is None:
                continue  # metric math on the widget's own metrics
            assert search["namespace"] == NAMESPACE, f"{where}: SEARCH outside {NAMESPACE}: {row['expression']}"
            assert search["terms"].get("Pipeline") == PIPELINE, f"{where}: SEARCH not limited to the pipeline"
            assert "MetricName" in search["terms"], f"{where}: SEARCH without MetricName"
            found.append((where, search["terms"]["MetricName"], search["dimensions"], None, search["stat"]))
        elif row["namespace"] == NAMESPACE:
            dimensions = row["dimensions"]
            assert dimensions.get("Pipeline") == PIPELINE, f"{where}: {row['name']} not of the pipeline"
            found.append((where, row["name"], tuple(dimensions), dimensions.get("Stage"), stat))
    return found


# ---------------------------------------------------------------------------
# structure


def test_the_body_is_json_with_widgets_on_the_grid(dashboard):
    assert dashboard["widgets"], "no widgets"
    assert len(dashboard["widgets"]) <= 500  # CloudWatch's limit
    for widget in dashboard["widgets"]:
        name = widget["properties"].get("title") or widget["properties"].get("markdown", "")[:40]
        assert widget["type"] in ("metric", "text"), name
        for key in ("x", "y", "width", "height"):
            assert isinstance(widget[key], int), f"{name}: {key}"
        assert widget["x"] >= 0 and widget["y"] >= 0, name
        assert 1 <= widget["width"] and widget["x"] + widget["width"] <= 24, f"{name}: outside the 24 columns"
        assert 1 <= widget["height"] <= 1000, name
        if widget["type"] == "text":
            assert widget["properties"]["markdown"].strip(), name
            assert widget["properties"].get("background", "solid") in ("solid", "transparent"), name
        else:
            assert widget["properties"].get("title"), "a metric widget without a title"
            assert 1 <= len(widget["properties"]["metrics"]) <= 100, name


def test_no_two_widgets_overlap(dashboard):
    def cells(widget):
        return {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }

    for a, b in itertools.combinations(dashboard["widgets"], 2):
        shared = cells(a) & cells(b)
        assert not shared, f"{a['properties'].get('title')} and {b['properties'].get('title')} overlap at {min(shared)}"


def test_every_metric_widget_is_in_the_stacks_region(dashboard):
    for widget in metric_widgets(dashboard):
        assert widget["properties"].get("region") == REGION, widget["properties"]["title"]


def test_metric_ids_and_expressions_are_consistent(dashboard):
    for widget in metric_widgets(dashboard):
        title = widget["properties"]["title"]
        ids = [row["options"]["id"] for row in render_dashboard.metric_rows(widget) if "id" in row["options"]]
        assert len(ids) == len(set(ids)), f"{title}: ids {ids}"
        for id_ in ids:
            assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", id_), f"{title}: id {id_!r}"
        for row in render_dashboard.metric_rows(widget):
            if "expression" not in row:
                continue
            if row["expression"].lstrip().startswith("SEARCH("):
                assert row["search"], f"{title}: unreadable SEARCH {row['expression']}"
                # Dynamic labels name dimensions of the search's schema.
                for dimension in re.findall(r"PROP\('Dim\.(\w+)'\)", row["options"].get("label", "")):
                    assert dimension in row["search"]["dimensions"], f"{title}: label names {dimension}"
            else:
                used = set(re.findall(r"\b[a-z][a-zA-Z0-9_]*\b", row["expression"]))
                assert used <= set(ids), f"{title}: {row['expression']} uses {used - set(ids)}"


def test_nothing_is_left_unsubstituted(dashboard):
    text = json.dumps(dashboard)
    assert "<AWS::NoValue>" not in text
    # ${...} only as CloudWatch's dynamic labels (written ${!...} in the template).
    for placeholder in re.findall(r"\$\{[^}]*\}", text):
        assert placeholder.startswith("${PROP('Dim."), placeholder


# ---------------------------------------------------------------------------
# the functions' metrics


def test_pipeline_metrics_are_the_ones_the_functions_publish(dashboard):
    for where, name, dimensions, stage, stat in pipeline_metrics(dashboard):
        assert name in EMF_METRICS, f"{where}: {name} is not a metric the functions publish (EMF_METRICS)"
        stages, dimension_sets = EMF_METRICS[name]
        assert tuple(dimensions) in dimension_sets, f"{where}: {name} has no dimensions {dimensions}"
        if stage is not None:
            assert stage in stages, f"{where}: stage {stage} does not publish {name}"
        if name in NOT_COUNTS:
            assert stat in ("Average", "Minimum", "Maximum"), f"{where}: {name} as {stat}"
        else:
            assert stat == "Sum", f"{where}: the count {name} as {stat}, not Sum"


def test_every_published_metric_is_on_the_dashboard(with_api):
    shown = {name for _, name, _, _, _ in pipeline_metrics(with_api)}
    assert shown == set(EMF_METRICS), f"not shown: {sorted(set(EMF_METRICS) - shown)}"
    # and each breakdown by class, through a SEARCH
    searched = {(name, dims[-1]) for _, name, dims, stage, _ in pipeline_metrics(with_api) if stage is None}
    assert searched == {(n, sets[-1][-1]) for n, (_, sets) in EMF_METRICS.items() if len(sets[-1]) == 3}


def test_the_list_is_the_metrics_the_code_publishes():
    """EMF_METRICS against the Rust code: every name given to the metrics
    writer (`count`, `count_by`, `value_by`, deploy's `action`, the shared
    names of shared/src/metrics.rs) is listed, and every listed one is given,
    so a metric renamed in the code fails here until the list (and so the
    dashboard and the docs) follow."""
    sources = [ROOT / "shared" / "src" / "metrics.rs"]
    sources += sorted((ROOT / "functions").glob("*/src/**/*.rs"))
    published = set()
    for source in sources:
        if source.name == "tests.rs":
            continue
        text = source.read_text()
        published |= set(re.findall(r'\b(?:count|count_by|value_by|action)\(\s*"([A-Za-z]+)"', text))
        if source.name == "metrics.rs":
            names = text[text.index("pub mod names") : text.index("pub enum Unit")]
            published |= set(re.findall(r'pub const [A-Z_]+: &str = "([A-Za-z]+)";', names))
    assert published == set(EMF_METRICS), (
        f"published, not listed: {sorted(published - set(EMF_METRICS))}; "
        f"listed, not published: {sorted(set(EMF_METRICS) - published)}"
    )


def test_each_stage_has_its_row_in_the_chain(with_api, without_api):
    def chain(dashboard):
        return {
            stage
            for _, name, _, stage, _ in pipeline_metrics(dashboard)
            if name == "Failed" and stage is not None
        }

    assert chain(with_api) == set(STAGES)
    assert chain(without_api) == set(STAGES) - {"serve"}


def test_the_metrics_table_in_the_docs_lists_every_metric():
    text = (ROOT / "docs" / "operating.md").read_text()
    for name in EMF_METRICS:
        assert f"`{name}`" in text, f"docs/operating.md does not list {name}"
    for value in REASONS + CAUSES:
        assert f"`{value}`" in text, f"docs/operating.md does not list {value}"


# ---------------------------------------------------------------------------
# AWS metrics and the template's resources


def resources_of(template: dict, kind: str) -> set[str]:
    return {name for name, resource in template["Resources"].items() if resource.get("Type") == kind}


def aws_rows(dashboard: dict) -> list[tuple[str, dict]]:
    return [
        (widget["properties"]["title"], row)
        for widget, row in rows(dashboard)
        if "namespace" in row and row["namespace"] != NAMESPACE
    ]


def test_aws_metrics_name_the_templates_resources(template, dashboard):
    functions = resources_of(template, "AWS::Serverless::Function")
    queues = resources_of(template, "AWS::SQS::Queue")
    variant = re.search(
        r'pub const VARIANT_NAME: &str = "([^"]+)"', (ROOT / "shared/src/sagemaker/endpoint.rs").read_text()
    )[1]
    for where, row in aws_rows(dashboard):
        assert row["namespace"] in AWS_METRICS, f"{where}: namespace {row['namespace']}"
        names, dimensions = AWS_METRICS[row["namespace"]]
        assert row["name"] in names, f"{where}: {row['namespace']} {row['name']}"
        assert tuple(row["dimensions"]) == dimensions, f"{where}: {row['name']} by {tuple(row['dimensions'])}"
        values = row["dimensions"]
        if "FunctionName" in values:
            assert re.fullmatch(r"<!Ref (\w+)>", values["FunctionName"])[1] in functions, where
        if "QueueName" in values:
            queue, attribute = values["QueueName"].split(".")
            assert queue in queues and attribute == "QueueName", where
        if "EndpointName" in values:
            assert values["EndpointName"] == f"{PIPELINE}--endpoint", where
            assert values["VariantName"] == variant, where
        if "ApiId" in values:
            assert values["ApiId"] == "<!Ref InferenceApi>", where
            assert template["Resources"]["InferenceApi"]["Type"] == "AWS::Serverless::HttpApi"


def test_every_queue_and_function_is_watched(template, with_api, without_api):
    queues = resources_of(template, "AWS::SQS::Queue")
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        watched = {row["dimensions"]["QueueName"].split(".")[0] for _, row in aws_rows(with_api) if row["name"] == metric}
        assert watched == queues, f"{metric}: {sorted(queues ^ watched)}"

    def functions(dashboard, metric):
        return {
            row["dimensions"]["FunctionName"].removeprefix("<!Ref ").removesuffix(">")
            for _, row in aws_rows(dashboard)
            if row["namespace"] == "AWS/Lambda" and row["name"] == metric
        }

    every = resources_of(template, "AWS::Serverless::Function")
    conditional = {name for name in every if template["Resources"][name].get("Condition") == "CreatesInferenceApi"}
    for metric in ("Invocations", "Errors", "Throttles"):
        assert functions(with_api, metric) == every, metric
        assert functions(without_api, metric) == every - conditional, metric


def test_a_custom_endpoint_name_is_the_one_watched(template):
    _, dashboard = render(template, EndpointName="fraud-live")
    names = {row["dimensions"]["EndpointName"] for _, row in aws_rows(dashboard) if "EndpointName" in row["dimensions"]}
    assert names == {"fraud-live"}


def test_the_inference_api_widgets_exist_only_with_the_api(with_api, without_api):
    def api_parts(dashboard):
        text = json.dumps(dashboard)
        return {
            "AWS/ApiGateway": "AWS/ApiGateway" in text,
            "InferenceApi": "<!Ref InferenceApi>" in text,
            "ServePredictionsFunction": "<!Ref ServePredictionsFunction>" in text,
            '"serve"': any(stage == "serve" for _, _, _, stage, _ in pipeline_metrics(dashboard)),
        }

    assert all(api_parts(with_api).values()), api_parts(with_api)
    assert not any(api_parts(without_api).values()), api_parts(without_api)
    # Without the API, a text widget takes the serve stage's place in the chain.
    serve_slot = [w for w in without_api["widgets"] if (w["x"], w["y"]) == (20, 4)]
    assert [w["type"] for w in serve_slot] == ["text"]
    assert "CreateInferenceApi" in serve_slot[0]["properties"]["markdown"]


def test_the_dashboard_and_its_url(template):
    name, _ = render(template)
    assert name == f"{PIPELINE}-mlops-{REGION}"  # dashboards are global to the account: the region makes it unique
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name)
    url = template["Outputs"]["DashboardUrl"]["Value"]
    assert url == {
        "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
        "#dashboards/dashboard/${PipelineDashboard}"
    }
    assert template["Resources"]["PipelineDashboard"]["Type"] == "AWS::CloudWatch::Dashboard"
    assert "Condition" not in template["Resources"]["PipelineDashboard"]


# ---------------------------------------------------------------------------
# the picture


def test_the_committed_picture_is_up_to_date(template):
    drawn = render_dashboard.picture(template=template)
    committed = render_dashboard.SVG.read_text() if render_dashboard.SVG.exists() else ""
    assert committed == drawn, (
        f"{render_dashboard.SVG.relative_to(ROOT)} does not show the template's dashboard: "
        "regenerate it with `.venv/bin/python scripts/render_dashboard.py`"
    )
