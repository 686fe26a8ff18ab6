"""Criticality and priority of a request: header first, then the model's, then the tenant's, then the
default; a negative priority is sheddable."""

from __future__ import annotations

import pytest

from inferlane.config.picking import AdmissionConfig
from inferlane.config.schema import ProxyConfig
from inferlane.model import ProxyRequest
from inferlane.pipeline.context import RequestContext
from inferlane.stages.admission.stage import classify

CONFIG = AdmissionConfig.model_validate(
    {
        "models": {"batch": "sheddable", "chat": "critical"},
        "tenants": {"acme": "critical", "free": "sheddable"},
    }
)


def ctx(headers=None, model="other", tenant=None) -> RequestContext:
    request = ProxyRequest(
        "POST", "/v1/chat/completions", "/v1/chat/completions", headers or {}, b"", "", 0.0
    )
    context = RequestContext(request, "id", 0.0, 10.0, {"model": model})
    context.tenant = tenant
    return context


@pytest.mark.parametrize(
    ("headers", "model", "tenant", "criticality", "priority"),
    [
        ({}, "other", None, "standard", 0),
        ({"x-inferlane-criticality": "Critical"}, "batch", None, "critical", 0),
        ({"x-inferlane-criticality": "bogus"}, "batch", None, "sheddable", 0),
        ({}, "chat", "free", "critical", 0),  # the model's setting comes before the tenant's
        ({}, "other", "acme", "critical", 0),
        ({"x-inferlane-priority": "7"}, "other", None, "standard", 7),
        ({"x-inferlane-priority": "-1"}, "chat", None, "sheddable", -1),
        ({"x-inferlane-priority": "99999"}, "other", None, "standard", 1000),
        ({"x-inferlane-priority": "high"}, "other", None, "standard", 0),
    ],
)
def test_classify(headers, model, tenant, criticality, priority):
    context = ctx(headers, model, tenant)
    classify(context, CONFIG)
    assert (context.criticality, context.priority) == (criticality, priority)


def test_default_criticality_and_dns_port_rules():
    config = AdmissionConfig(default_criticality="sheddable")
    context = ctx()
    classify(context, config)
    assert context.criticality == "sheddable"
    backend = {"name": "b", "endpoints": ["http://x:1"], "discovery": {"dns": {"name": "svc.local"}}}
    with pytest.raises(ValueError, match="'port' is required for A\\+AAAA records"):
        ProxyConfig.model_validate({"backends": [backend]})
    backend["discovery"]["dns"] = {"name": "_http._tcp.svc.local", "type": "SRV"}
    assert ProxyConfig.model_validate({"backends": [backend]}).backends[0].discovery.dns is not None
