import types

import pytest
from pydantic import BaseModel

from app.errors import PlaybookError
from app.models import Alert
from app.plugins.registry import Registry, playbook, use_registry


def alert(status: str = "firing", **labels: str) -> Alert:
    return Alert(status=status, labels=labels)  # type: ignore[arg-type]


def test_decorator_registers_a_frozen_spec_and_returns_the_function() -> None:
    registry = Registry()
    with use_registry(registry):

        @playbook(match='alertname="CostSpike"', cooldown="15m", timeout="30s")
        async def cost_spike(alert: Alert, ctx: object) -> None:
            """Cut spend."""

    spec = registry.get("cost_spike")
    assert spec is not None
    assert spec.fn is cost_spike
    assert (spec.cooldown, spec.timeout, spec.on, spec.description) == (900, 30, "firing", "Cut spend.")
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


def test_on_selects_the_status() -> None:
    registry = Registry()
    with use_registry(registry):

        @playbook(match='alertname="A"')
        async def firing(alert: Alert, ctx: object) -> None: ...

        @playbook(match='alertname="A"', on="resolved")
        async def resolved(alert: Alert, ctx: object) -> None: ...

        @playbook(match='alertname="A"', on="any")
        async def both(alert: Alert, ctx: object) -> None: ...

    assert [s.name for s in registry.match(alert("firing", alertname="A"))] == ["firing", "both"]
    assert [s.name for s in registry.match(alert("resolved", alertname="A"))] == ["resolved", "both"]
    assert registry.match(alert("firing", alertname="B")) == []


def test_sync_functions_are_allowed_and_marked() -> None:
    registry = Registry()
    with use_registry(registry):

        @playbook(match='alertname="A"')
        def sync_one(alert: Alert, ctx: object) -> None: ...

    spec = registry.get("sync_one")
    assert spec is not None and not spec.is_async


class Params(BaseModel):
    replicas: int = 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs match="),
        ({"match": "alertname"}, "bad match"),
        ({"match": 'a="1"', "on": "sometimes"}, "on must be"),
        ({"match": 'a="1"', "cooldown": "soon"}, "invalid duration"),
        ({"match": 'a="1"', "timeout": 0}, "timeout must be positive"),
        ({"match": 'a="1"', "params": dict}, "params must be a pydantic BaseModel"),
        ({"match": 'a="1"', "dry_run": "yes"}, "dry_run must be"),
        ({"match": 'a="1"', "approval": "yes"}, "approval must be"),
        ({"match": 'a="1"', "name": "has space"}, "must match"),
    ],
)
def test_invalid_options_fail_at_import(kwargs: dict[str, object], message: str) -> None:
    with use_registry(Registry()), pytest.raises(PlaybookError, match=message):

        @playbook(**kwargs)  # type: ignore[arg-type]
        async def pb(alert: Alert, ctx: object) -> None: ...


def test_unknown_options_are_not_accepted() -> None:
    """Every option is an explicit keyword argument: mypy rejects a misspelt one, Python too."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        playbook(match='a="1"', colour="red")  # type: ignore[call-arg]


def test_params_model_is_accepted() -> None:
    registry = Registry()
    with use_registry(registry):

        @playbook(match='a="1"', params=Params)
        async def with_params(alert: Alert, ctx: object) -> None: ...

    spec = registry.get("with_params")
    assert spec is not None and spec.params is Params


@pytest.mark.parametrize(
    "source",
    [
        "async def pb(alert): ...",
        "async def pb(alert, ctx, extra): ...",
        "async def pb(): ...",
    ],
)
def test_wrong_signature_is_rejected(source: str) -> None:
    namespace: dict[str, object] = {}
    exec(source, namespace)
    with use_registry(Registry()), pytest.raises(PlaybookError, match=r"must take exactly \(alert, ctx\)"):
        playbook(match='a="1"')(namespace["pb"])  # type: ignore[arg-type]


def test_bare_decorator_is_rejected() -> None:
    async def pb(alert: Alert, ctx: object) -> None: ...

    with pytest.raises(PlaybookError, match="keyword options"):
        playbook(pb)


def test_duplicate_names_are_rejected() -> None:
    with use_registry(Registry()):

        @playbook(match='a="1"')
        async def same(alert: Alert, ctx: object) -> None: ...

        with pytest.raises(PlaybookError, match="duplicate playbook name 'same'"):

            @playbook(match='a="2"', name="same")
            async def other(alert: Alert, ctx: object) -> None: ...


def test_the_decorator_alone_registers_nothing() -> None:
    """Registration is explicit: outside `use_registry` a decorated function is only marked."""

    @playbook(match='a="1"', approval=True)
    async def marked(alert: Alert, ctx: object) -> None: ...

    registry = Registry()
    assert len(registry) == 0
    (spec,) = registry.register(marked)
    assert (spec.name, spec.fn, spec.approval) == ("marked", marked, True)
    with pytest.raises(PlaybookError, match="duplicate playbook name 'marked'"):
        registry.register(marked)


def test_register_a_module_in_definition_order_with_its_source() -> None:
    module = types.ModuleType("pb_module")
    source = (
        "from app.sdk import playbook\n"
        "from tests.unit.plugins.test_registry import elsewhere\n"
        "@playbook(match='a=\"1\"')\nasync def second(alert, ctx): ...\n"
        "@playbook(match='a=\"1\"', name='renamed')\nasync def first(alert, ctx): ...\n"
        "alias = first\n"
    )
    exec(compile(source, "pb_module.py", "exec"), module.__dict__)
    registry = Registry()
    specs = registry.register(module, "pb_module.py")
    assert [s.name for s in specs] == [s.name for s in registry] == ["second", "renamed"]
    assert {s.source for s in specs} == {"pb_module.py"}
    assert Registry().register(module)[0].source == "pb_module"


def test_registering_what_is_not_a_playbook_is_an_error() -> None:
    async def undecorated(alert: Alert, ctx: object) -> None: ...

    with pytest.raises(PlaybookError, match="is not a playbook"):
        Registry().register(undecorated)


@playbook(match='a="elsewhere"')
async def elsewhere(alert: Alert, ctx: object) -> None:
    """Imported by the module above: registered where it is defined, not there."""
