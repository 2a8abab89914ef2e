"""Hostile request bodies: each gets a 4xx Status and leaves nothing half-stored, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.apiserver import Api

CMS = "/api/v1/namespaces/default/configmaps"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"
JSON = {"Content-Type": "application/json"}


def _deployment(replicas: int) -> dict[str, object]:
    labels = {"app": "w"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


@pytest.mark.parametrize("replicas", [2**31, 10**20, -(2**31) - 1])
async def test_integers_wider_than_go_types_are_400(apiserver: Api, replicas: int) -> None:
    # replicas is an int32: 1e20 was stored, then every write that copied the object was a 500.
    code, status = await apiserver.post(DEPLOYS, data=json.dumps(_deployment(replicas)), headers=JSON)
    assert code == 400, status
    assert status["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: '
                                 "Expected `int` " + (">= -2147483648" if replicas < 0 else "<= 2147483647")
                                 + " at spec.replicas")
    code, _ = await apiserver.get(f"{DEPLOYS}/w")
    assert code == 404


async def test_scale_beyond_int32_is_400_and_changes_nothing(apiserver: Api) -> None:
    code, _ = await apiserver.post(DEPLOYS, data=json.dumps(_deployment(1)), headers=JSON)
    assert code == 201
    for replicas in (2**31, 10**20):
        code, status = await apiserver.patch(f"{DEPLOYS}/w/scale", data=json.dumps({"spec": {"replicas": replicas}}),
                                             headers={"Content-Type": "application/merge-patch+json"})
        assert code == 400 and "Expected `int` <= 2147483647 at spec.replicas" in status["message"], status
    code, deploy = await apiserver.get(f"{DEPLOYS}/w")
    assert code == 200 and deploy["spec"]["replicas"] == 1
    code, scale = await apiserver.put(f"{DEPLOYS}/w/scale", json={"apiVersion": "autoscaling/v1", "kind": "Scale",
                                                                 "metadata": {"name": "w"},
                                                                 "spec": {"replicas": 2**31 - 1}})
    assert code == 200 and scale["spec"]["replicas"] == 2**31 - 1  # the largest int32 is fine


async def test_int64_fields_take_int64_values(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"terminationGracePeriodSeconds": 2**40, "containers": [{"name": "c", "image": "x"}]}}
    code, created = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 201 and created["spec"]["terminationGracePeriodSeconds"] == 2**40
    pod["metadata"] = {"name": "q"}
    pod["spec"]["terminationGracePeriodSeconds"] = 2**63  # type: ignore[index]
    code, status = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 400 and "Expected `int` <= 9223372036854775807 at spec.terminationGracePeriodSeconds" in \
        status["message"]


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [150, 600, 10_000])
async def test_deeply_nested_documents_are_400(apiserver: Api, depth: int) -> None:
    # 10k levels overflowed the decoder; a few hundred got through it and overflowed deepcopy in
    # the JSON patch (or any other recursive step after it): both were 500s.
    code, _ = await apiserver.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "base"}})
    assert code == 201
    deep = _deep(depth)
    cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"x":DEEP}'
    requests = [
        ("POST", CMS, cm.replace("NAME", "d").replace("DEEP", deep), "application/json", "the request body"),
        ("PUT", f"{CMS}/base", cm.replace("NAME", "base").replace("DEEP", deep), "application/json",
         "the request body"),
        ("PATCH", f"{CMS}/base", '{"x":' + deep + "}", "application/merge-patch+json", "the patch"),
        ("PATCH", f"{CMS}/base", '{"x":' + deep + "}", "application/strategic-merge-patch+json", "the patch"),
        ("PATCH", f"{CMS}/base", '[{"op":"add","path":"/x","value":' + deep + "}]", "application/json-patch+json",
         "the patch"),
    ]
    for method, path, data, content_type, what in requests:
        code, status = await apiserver.request(method, path, data=data, headers={"Content-Type": content_type})
        assert code == 400, (method, content_type, status)
        assert status["message"] == f"{what} is nested more than 100 levels deep"


async def test_deeply_nested_yaml_is_400(apiserver: Api) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nx: " + "[" * 300 + "]" * 300 + "\n"
    code, status = await apiserver.post(CMS, data=doc, headers={"Content-Type": "application/yaml"})
    assert code == 400 and status["message"] == "the request body is nested more than 100 levels deep"


async def test_a_pod_as_deep_as_real_ones_is_fine(apiserver: Api) -> None:
    term = {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "deep-enough"},
           "spec": {"containers": [{"name": "c", "image": "x"}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [term]}}}}}
    code, created = await apiserver.post("/api/v1/namespaces/default/pods", json=pod)
    assert code == 201, created


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param("a in (b", "unable to parse requirement: found '', expected: ')'", id="unclosed"),
        pytest.param("!", "unable to parse requirement: found '', expected: identifier", id="bang"),
        pytest.param("a=b,", "found '', expected: identifier after ','", id="trailing-comma"),
        pytest.param("a=b c", "found 'c', expected: ',' or 'end of string'", id="no-comma"),
    ],
)
async def test_label_selector_errors_read_as_kubernetes_words_them(apiserver: Api, selector: str,
                                                                  message: str) -> None:
    # The prefix was doubled: "unable to parse requirement: unable to parse requirement: ...".
    code, status = await apiserver.get(CMS, params={"labelSelector": selector})
    assert code == 400 and status["message"] == message


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_put_or_patch_on_a_collection_is_405(apiserver: Api, method: str) -> None:
    code, status = await apiserver.request(method, CMS, data="{}",
                                           headers={"Content-Type": "application/merge-patch+json"})
    assert code == 405 and status["reason"] == "MethodNotAllowed", status  # was 404 'configmaps "" not found'


async def _configmap(api: Api, name: str) -> dict[str, object]:
    code, created = await api.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    assert code == 201, created
    return created


async def test_dry_run_in_the_delete_body_deletes_nothing(apiserver: Api) -> None:
    # kubectl delete --dry-run=server sends DeleteOptions {"dryRun": ["All"]} in the body: the
    # object was deleted for real.
    await _configmap(apiserver, "dry")
    code, answer = await apiserver.delete(f"{CMS}/dry", json={"dryRun": ["All"]})
    assert code == 200 and answer["metadata"]["name"] == "dry"
    code, _ = await apiserver.get(f"{CMS}/dry")
    assert code == 200
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "evictee"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    assert (await apiserver.post("/api/v1/namespaces/default/pods", json=pod))[0] == 201
    code, _ = await apiserver.post("/api/v1/namespaces/default/pods/evictee/eviction",
                                   json={"apiVersion": "policy/v1", "kind": "Eviction",
                                         "metadata": {"name": "evictee"}, "deleteOptions": {"dryRun": ["All"]}})
    assert code == 201
    code, _ = await apiserver.get("/api/v1/namespaces/default/pods/evictee")
    assert code == 200


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        pytest.param({"preconditions": 5}, 400, "Expected `object | null`, got `int` at preconditions",
                     id="preconditions-not-an-object"),  # was a 500
        pytest.param({"preconditions": {"uid": 5}}, 400, "Expected `str | null`, got `int` at preconditions.uid",
                     id="uid-not-a-string"),
        pytest.param({"gracePeriodSeconds": 2**70}, 400, "Expected `int` <= 9223372036854775807 at gracePeriodSeconds",
                     id="grace-beyond-int64"),  # was a delete
        pytest.param({"dryRun": ["Bogus"]}, 422, 'dryRun[0]: Unsupported value: "Bogus"', id="bad-dry-run"),
        pytest.param({"propagationPolicy": "Sideways"}, 422, 'propagationPolicy: Unsupported value: "Sideways"',
                     id="bad-policy"),
        pytest.param({"propagationPolicy": "Orphan", "orphanDependents": True}, 422,
                     "orphanDependents and deletionPropagation cannot be both set", id="both-policies"),
    ],
)
async def test_bad_delete_options_delete_nothing(apiserver: Api, options: dict[str, object], code: int,
                                                 message: str) -> None:
    await _configmap(apiserver, "keep")
    got, status = await apiserver.delete(f"{CMS}/keep", json=options)
    assert got == code and message in status["message"], status
    assert (await apiserver.get(f"{CMS}/keep"))[0] == 200


async def test_preconditions_that_do_not_hold_are_409(apiserver: Api) -> None:
    created = await _configmap(apiserver, "pre")
    meta = created["metadata"]
    assert isinstance(meta, dict)
    for pre in ({"uid": "not-the-uid"}, {"resourceVersion": "1"}):
        code, status = await apiserver.delete(f"{CMS}/pre", json={"preconditions": pre})
        assert code == 409 and "Precondition failed" in status["message"], status
    code, _ = await apiserver.delete(f"{CMS}/pre", json={"preconditions": {"uid": meta["uid"],
                                                                          "resourceVersion": meta["resourceVersion"]}})
    assert code == 200 and (await apiserver.get(f"{CMS}/pre"))[0] == 404


async def test_a_huge_grace_period_is_due_in_year_9999(apiserver: Api) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slow"},
           "spec": {"nodeName": "pi-1", "containers": [{"name": "c", "image": "x"}]}}
    assert (await apiserver.post("/api/v1/namespaces/default/pods", json=pod))[0] == 201
    code, deleted = await apiserver.delete("/api/v1/namespaces/default/pods/slow", json={"gracePeriodSeconds": 2**62})
    assert code == 200, deleted  # was a 500: gmtime overflowed
    assert deleted["metadata"]["deletionTimestamp"] == "9999-12-31T23:59:59Z"
    assert deleted["metadata"]["deletionGracePeriodSeconds"] == 2**62


@pytest.mark.parametrize(
    ("accept", "code"),
    [
        pytest.param("text/html", 406, id="html"),
        pytest.param("image/png, text/plain;q=0.5", 406, id="nothing-servable"),
        pytest.param("text/html,*/*;q=0.8", 200, id="browser"),
        pytest.param("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", 200, id="kubectl"),
        pytest.param("application/vnd.kubernetes.protobuf,application/json", 200, id="protobuf-first"),
        pytest.param("application/yaml", 200, id="yaml"),
    ],
)
async def test_accept_negotiation(apiserver: Api, accept: str, code: int) -> None:
    got, answer = await apiserver.get(CMS, headers={"Accept": accept})
    assert got == code, answer
    if code == 406:
        assert answer["reason"] == "NotAcceptable"


def _alias_bomb(levels: int) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "a0: &a0 [" + ",".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        # 500 bytes that expand to 9**9 values: walking them blocked the server's event loop.
        pytest.param(_alias_bomb(9), "the request body expands to more than 1000000 values (YAML aliases)", id="bomb"),
        pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nx: &a {b: *a}\n",
                     "the request body refers to itself (a YAML alias inside its own anchor)", id="cycle"),
    ],
)
async def test_yaml_aliases_cannot_blow_up(apiserver: Api, doc: str, message: str) -> None:
    code, status = await apiserver.post(CMS, data=doc, headers={"Content-Type": "application/yaml"})
    assert code == 400 and status["message"] == message
    shared = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: &d {a: b}\nx: [*d, *d]\n"
    code, created = await apiserver.post(CMS, data=shared, headers={"Content-Type": "application/yaml"})
    assert code == 201 and created["data"] == {"a": "b"}  # aliases within bounds are fine


@pytest.mark.parametrize(
    ("path", "doc", "message"),
    [
        # Each was a 500: the subresource read its body as builtins of the shape it expected.
        pytest.param("pods/p/eviction", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": "x"},
                     "Expected `object`, got `str` at metadata", id="eviction-metadata"),
        pytest.param("pods/p/binding", {"apiVersion": "v1", "kind": "Binding", "metadata": "x",
                                        "target": {"kind": "Node", "name": "n"}},
                     "Expected `object`, got `str` at metadata", id="binding-metadata"),
        pytest.param("bindings", {"apiVersion": "v1", "kind": "Binding", "metadata": ["x"],
                                  "target": {"kind": "Node", "name": "n"}},
                     "metadata must be an object", id="bindings-metadata"),
        pytest.param("serviceaccounts/default/token",
                     {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                      "spec": {"boundObjectRef": {"kind": [None], "name": "p"}}},
                     "Expected `str`, got `array` at spec.boundObjectRef.kind", id="token-bound-kind"),
    ],
)
async def test_subresource_bodies_of_the_wrong_shape_are_400(apiserver: Api, path: str, doc: dict[str, object],
                                                              message: str) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    assert (await apiserver.post("/api/v1/namespaces/default/pods", json=pod))[0] == 201
    await apiserver.post("/api/v1/namespaces/default/serviceaccounts",
                         json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
    code, status = await apiserver.post(f"/api/v1/namespaces/default/{path}", json=doc)
    assert code == 400 and message in status["message"], status


@pytest.mark.parametrize("spec", ["-1", [None]])
async def test_scale_of_the_wrong_shape_is_400(apiserver: Api, spec: object) -> None:
    await apiserver.post(DEPLOYS, data=json.dumps(_deployment(1)), headers=JSON)
    code, status = await apiserver.put(f"{DEPLOYS}/w/scale", json={"apiVersion": "autoscaling/v1", "kind": "Scale",
                                                                  "metadata": {"name": "w"}, "spec": spec})
    assert code == 400 and "at spec" in status["message"], status  # was a 500


async def test_concurrent_writes_without_a_resource_version_all_land(apiserver: Api) -> None:
    # Each lost the race to another write got a 409 after 5 tries: 57 of 60 concurrent label
    # patches failed. A conflict caused by another write landing is retried on top of it.
    import asyncio

    await _configmap(apiserver, "busy")
    merge = {"Content-Type": "application/merge-patch+json"}

    async def label(i: int) -> int:
        return (await apiserver.patch(f"{CMS}/busy", data=json.dumps({"metadata": {"labels": {f"l{i}": "x"}}}),
                                      headers=merge))[0]

    async def add(i: int) -> int:
        ops = [{"op": "add", "path": f"/metadata/annotations/a{i}", "value": "x"}]
        return (await apiserver.patch(f"{CMS}/busy", data=json.dumps(ops),
                                      headers={"Content-Type": "application/json-patch+json"}))[0]

    async def put(i: int) -> int:  # no resourceVersion: unconditional
        return (await apiserver.put(f"{CMS}/busy", json={"apiVersion": "v1", "kind": "ConfigMap",
                                                         "metadata": {"name": "busy"}, "data": {"put": str(i)}}))[0]

    codes = await asyncio.gather(*[f(i) for i in range(25) for f in (label, put)])
    assert set(codes) == {200}, codes
    assert set(await asyncio.gather(*[label(i) for i in range(25)])) == {200}
    await apiserver.patch(f"{CMS}/busy", data='{"metadata": {"annotations": {"seed": "x"}}}', headers=merge)
    assert set(await asyncio.gather(*[add(i) for i in range(25)])) == {200}
    _, live = await apiserver.get(f"{CMS}/busy")
    assert len(live["metadata"]["labels"]) == 25 and len(live["metadata"]["annotations"]) == 26

    await apiserver.post(DEPLOYS, data=json.dumps(_deployment(1)), headers=JSON)
    scale = [apiserver.patch(f"{DEPLOYS}/w/scale", data=json.dumps({"spec": {"replicas": i}}), headers=merge)
             for i in range(20)]
    label_deploy = [apiserver.patch(f"{DEPLOYS}/w", data=json.dumps({"metadata": {"labels": {f"d{i}": "x"}}}),
                                    headers=merge) for i in range(20)]
    results = await asyncio.gather(*scale, *label_deploy)
    assert {code for code, _ in results} == {200}, [r[1]["message"] for r in results if r[0] != 200][:2]


async def test_a_request_head_never_finished_is_closed(tmp_path: Path) -> None:
    # A client that sent half a request head held its connection (and a file descriptor) for
    # aiohttp's default hour: enough of them and the server runs out of descriptors.
    import asyncio
    import ssl

    from tests.fixtures.apiserver import running_apiserver

    async with running_apiserver(tmp_path, idle_timeout=0.5) as api:
        ctx = ssl.create_default_context(cafile=str(api.data_dir / "pki" / "ca.crt"))
        host, port = api.base.removeprefix("https://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port), ssl=ctx, server_hostname=host)
        try:
            writer.write(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n")  # no blank line: never ends
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 30) == b""  # the server hung up
        finally:
            writer.close()
        code, _ = await api.get("/api/v1/namespaces")  # and still serves everyone else
        assert code == 200


async def test_long_selectors_and_tokens_reach_the_api(apiserver: Api) -> None:
    # aiohttp's 8 KiB limit on a request line or header answered with a plain-text 400.
    values = ",".join(f"v{i}" for i in range(2000))
    code, found = await apiserver.get(CMS, params={"labelSelector": f"app in ({values})"})
    assert code == 200 and found["kind"] == "ConfigMapList"
    import ssl

    import aiohttp

    ctx = ssl.create_default_context(cafile=str(apiserver.data_dir / "pki" / "ca.crt"))
    async with (aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as anon,
                anon.get(apiserver.base + CMS, headers={"Authorization": "Bearer " + "a" * 20000}) as resp):
        assert resp.status == 401 and (await resp.json())["reason"] == "Unauthorized"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param({"spec": 5}, "Expected `object`, got `int` at spec", id="spec-number"),  # was a 500
        pytest.param({"metadata": 5}, "Expected `object`, got `int` at metadata", id="metadata-number"),  # 500
        pytest.param({"metadata": {"name": "other"}, "spec": {"finalizers": []}},
                     "the name of the object (other) does not match the name on the URL (doomed)", id="other-name"),
    ],
)
async def test_bad_namespace_finalize_bodies_are_400(apiserver: Api, doc: dict[str, object], message: str) -> None:
    await apiserver.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": "doomed"}})
    code, status = await apiserver.put("/api/v1/namespaces/doomed/finalize",
                                       json={"apiVersion": "v1", "kind": "Namespace", **doc})
    assert code == 400 and message in status["message"], status
    _, ns = await apiserver.get("/api/v1/namespaces/doomed")
    assert ns["spec"]["finalizers"] == ["kubernetes"]  # nothing finalized


@pytest.mark.parametrize(
    ("path", "doc", "where"),
    [
        pytest.param("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
                                       "status": {"conditions": [{"type": "Ready", "status": "True",
                                                                  "lastHeartbeatTime": "garbage"}]}},
                     "status.conditions[0].lastHeartbeatTime", id="node-condition"),
        pytest.param("/apis/coordination.k8s.io/v1/namespaces/default/leases",
                     {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
                      "spec": {"renewTime": "yesterday"}}, "spec.renewTime", id="lease-renew"),
        pytest.param("/api/v1/namespaces/default/events",
                     {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                      "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
                      "firstTimestamp": "2026-13-45 25:61"}, "firstTimestamp", id="event-first"),
    ],
)
async def test_times_that_are_not_rfc3339_are_400(apiserver: Api, path: str, doc: dict[str, object],
                                                  where: str) -> None:
    # Stored as given, such a time made the object unreadable to client-go and the Python client.
    code, status = await apiserver.post(path, json=doc)
    assert code == 400 and status["message"].endswith(f"at {where}"), status
    ok = json.loads(json.dumps(doc).replace("garbage", "2026-11-27T08:00:00Z").replace(
        "yesterday", "2026-11-27T08:00:00.123456Z").replace("2026-13-45 25:61", "2026-11-27T08:00:00+01:00"))
    code, created = await apiserver.post(path, json=ok)
    assert code == 201, created


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        # PyYAML's constructors raised ValueError, KeyError or AttributeError here: 500s.
        pytest.param("data: {a: !!int abc}\n", "'abc' is not a valid YAML int", id="int"),
        pytest.param("data: {a: !!bool maybe}\n", "'maybe' is not a valid YAML bool", id="bool"),
        pytest.param("data: {a: !!timestamp soon}\n", "'soon' is not a valid YAML timestamp", id="timestamp"),
    ],
)
async def test_yaml_values_that_do_not_fit_their_tag_are_400(apiserver: Api, tail: str, message: str) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tagged}\n" + tail
    code, status = await apiserver.post(CMS, data=doc, headers={"Content-Type": "application/yaml"})
    assert code == 400 and message in status["message"], status


async def test_yaml_dates_stay_strings(apiserver: Api) -> None:
    # PyYAML's dates and times: a value that looked like a date was a 400 ("got `date`"), one that
    # looked like a time was stored rewritten ("2024-01-01T10:00:00Z").
    doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dated, labels: {d: 2024-01-01}}\n"
           "data: {when: 2024-01-01, at: 2024-01-01 10:00:00}\n")
    code, created = await apiserver.post(CMS, data=doc, headers={"Content-Type": "application/yaml"})
    assert code == 201, created
    assert created["metadata"]["labels"] == {"d": "2024-01-01"}
    assert created["data"] == {"when": "2024-01-01", "at": "2024-01-01 10:00:00"}


@pytest.mark.parametrize("part", ["header", "payload"])
async def test_a_bearer_token_of_deep_json_is_401(apiserver: Api, part: str) -> None:
    # Anyone could make the apiserver fail with a 500: the token's JSON overflowed the decoder.
    import base64
    import ssl

    import aiohttp

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    deep = b"[" * 5000 + b"]" * 5000
    header, payload = (deep, b'{"iss":"x"}') if part == "header" else (b'{"alg":"ES256"}', deep)
    token = f"{b64(header)}.{b64(payload)}.{b64(b'sig')}"
    ctx = ssl.create_default_context(cafile=str(apiserver.data_dir / "pki" / "ca.crt"))
    async with (aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as anon,
                anon.get(apiserver.base + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"}) as resp):
        assert resp.status == 401


async def test_a_continue_token_of_deep_json_is_400(apiserver: Api) -> None:
    import base64

    token = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    code, status = await apiserver.get(CMS, params={"limit": "1", "continue": token})
    assert code == 400 and status["message"].startswith("invalid continue token"), status  # was a 500


@pytest.mark.parametrize("rv", ["9" * 5000, "٣", "²", "1_0", "99999999999999999999"])
async def test_resource_versions_are_ascii_int64(apiserver: Api, rv: str) -> None:
    # 5000 digits (and "²") raised int()'s own ValueError in the list path: a 500; "٣" and "1_0"
    # were taken as numbers.
    await _configmap(apiserver, "rv")
    for path, params in ((CMS, {"resourceVersion": rv}), (f"{CMS}/rv", {"resourceVersion": rv}),
                         (CMS, {"resourceVersion": rv, "watch": "1"}),
                         (CMS, {"resourceVersion": rv, "resourceVersionMatch": "Exact"})):
        code, status = await apiserver.get(path, params=params)
        assert code == 400 and status["message"].startswith("invalid resourceVersion"), (path, params, status)
    code, status = await apiserver.put(f"{CMS}/rv", json={"apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": {"name": "rv", "resourceVersion": rv}})
    assert code == 400, status


@pytest.mark.parametrize("value", ["1_0", "٣", " 5", "99999999999999999999"])
async def test_integer_query_parameters_are_ascii_int64(apiserver: Api, value: str) -> None:
    for params in ({"limit": value}, {"watch": "1", "timeoutSeconds": value}):
        code, status = await apiserver.get(CMS, params=params)
        assert code == 400 and "is not an integer" in status["message"], (params, status)


async def test_a_body_that_never_arrives_is_408(tmp_path: Path) -> None:
    # A Content-Length larger than what is sent held the request (and its connection) for good.
    import asyncio
    import ssl

    from tests.fixtures.apiserver import admin_ssl, running_apiserver

    async with running_apiserver(tmp_path, body_timeout=0.5) as api:
        host, port = api.base.removeprefix("https://").split(":")
        ctx: ssl.SSLContext = admin_ssl(api.data_dir)
        reader, writer = await asyncio.open_connection(host, int(port), ssl=ctx, server_hostname=host)
        try:
            writer.write(f"POST {CMS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: 100\r\n\r\n{\"apiVersion\"".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readline(), 30)
            assert head.startswith(b"HTTP/1.1 408"), head
        finally:
            writer.close()
        code, _ = await api.get(CMS)
        assert code == 200
