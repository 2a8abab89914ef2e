"""Syntax checks Kubernetes applies to names, labels, ports and the like.

Each ``is_*`` returns a list of messages (empty when valid), worded as Kubernetes words them;
callers wrap them in ``FieldError``s at the right path. ``validate_*`` helpers return
``FieldError``s directly.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping

from master.api import field
from master.api.field import FieldError
from master.api.meta import DeleteOptions

__all__ = [
    "NameValidator",
    "is_c_identifier",
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_http_header_name",
    "is_ip",
    "is_port_name",
    "is_qualified_name",
    "is_valid_label_value",
    "validate_annotations",
    "validate_delete_options",
    "validate_labels",
    "validate_nonnegative",
    "validate_port",
    "validate_positive",
]

# (value, prefix) -> messages. ``prefix`` is True for generateName, which may end in "-".
NameValidator = Callable[[str, bool], list[str]]

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
TOTAL_ANNOTATION_SIZE = 256 * 1024

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL = re.compile(f"^{_DNS1035_LABEL_FMT}$")
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_LABEL_VALUE_FMT = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER = re.compile(f"^{_C_IDENTIFIER_FMT}$")
_ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR = re.compile(f"^{_ENV_VAR_FMT}$")
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{_CONFIG_KEY_FMT}$")
_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER = re.compile(f"^{_HTTP_HEADER_FMT}$")
_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_HAS_LETTER = re.compile("[a-z]")


def _regex_error(what: str, fmt: str, examples: tuple[str, ...]) -> str:
    shown = ",  or ".join(f"'{e}'" for e in examples)
    return f"{what} (e.g. {shown}, regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def is_dns1123_label(value: str, prefix: bool = False) -> list[str]:
    if prefix:
        value = _mask_trailing_dash(value)
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL.match(value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character",
                _DNS1123_LABEL_FMT,
                ("my-name", "123-abc"),
            )
        )
    return errs


def is_dns1123_subdomain(value: str, prefix: bool = False) -> list[str]:
    if prefix:
        value = _mask_trailing_dash(value)
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character",
                _DNS1123_SUBDOMAIN_FMT,
                ("example.com",),
            )
        )
    return errs


def is_dns1035_label(value: str, prefix: bool = False) -> list[str]:
    if prefix:
        value = _mask_trailing_dash(value)
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _DNS1035_LABEL.match(value):
        errs.append(
            _regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character",
                _DNS1035_LABEL_FMT,
                ("my-name", "abc-123"),
            )
        )
    return errs


def _mask_trailing_dash(value: str) -> str:
    # generateName "web-" is valid: the random suffix follows the dash.
    return value[:-1] + "a" if len(value) > 1 and value.endswith("-") else value


def is_qualified_name(value: str) -> list[str]:
    """Label and annotation keys, finalizers: ``[prefix/]name``."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
        errs: list[str] = []
    elif len(parts) == 2:
        prefix, name = parts
        errs = []
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend(f"prefix part {m}" for m in is_dns1123_subdomain(prefix))
    else:
        return [
            _regex_error(
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character",
                _QUALIFIED_NAME_FMT,
                ("MyName", "my.name", "123-abc"),
            )
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > DNS1123_LABEL_MAX:
        errs.append("name part " + _max_len(DNS1123_LABEL_MAX))
    if name and not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part "
            + _regex_error(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character",
                _QUALIFIED_NAME_FMT,
                ("MyName", "my.name", "123-abc"),
            )
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _LABEL_VALUE.match(value):
        errs.append(
            _regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character",
                _LABEL_VALUE_FMT,
                ("MyValue", "my_value", "12345"),
            )
        )
    return errs


def is_c_identifier(value: str) -> list[str]:
    if _C_IDENTIFIER.match(value):
        return []
    return [
        _regex_error(
            "a valid C identifier must start with alphabetic character or '_', followed by a string of "
            "alphanumeric characters or '_'",
            _C_IDENTIFIER_FMT,
            ("my_name", "MY_NAME", "MyName"),
        )
    ]


def is_env_var_name(value: str) -> list[str]:
    errs = []
    if not _ENV_VAR.match(value):
        errs.append(
            _regex_error(
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or "
                "'.', and must not start with a digit",
                _ENV_VAR_FMT,
                ("my.env-name", "MY_ENV.NAME", "MyEnvName1"),
            )
        )
    errs.extend(_no_dots(value))
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len(DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_KEY.match(value):
        errs.append(
            _regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                _CONFIG_KEY_FMT,
                ("key.name", "KEY_NAME", "key-name"),
            )
        )
    errs.extend(_no_dots(value))
    return errs


def _no_dots(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_http_header_name(value: str) -> list[str]:
    if _HTTP_HEADER.match(value):
        return []
    return [
        _regex_error(
            "a valid HTTP header must consist of alphanumeric characters or '-'",
            _HTTP_HEADER_FMT,
            ("X-Header-Name",),
        )
    ]


def is_port_name(value: str) -> list[str]:
    """An IANA service name, as port names must be (``http``, ``metrics-2``)."""
    errs = []
    if len(value) > 15:
        errs.append(_max_len(15))
    if not _PORT_NAME_CHARS.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if not _HAS_LETTER.search(value):
        errs.append("must contain at least one letter (a-z)")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_ip(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


def validate_port(value: int, path: str) -> list[FieldError]:
    if 1 <= value <= 65535:
        return []
    return [field.invalid(path, value, "must be between 1 and 65535, inclusive")]


def validate_nonnegative(value: int | None, path: str) -> list[FieldError]:
    if value is None or value >= 0:
        return []
    return [field.invalid(path, value, "must be greater than or equal to 0")]


def validate_positive(value: int | None, path: str) -> list[FieldError]:
    if value is None or value > 0:
        return []
    return [field.invalid(path, value, "must be greater than 0")]


def validate_labels(labels: Mapping[str, str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for k, v in labels.items():
        errs.extend(field.invalid(path, k, m) for m in is_qualified_name(k))
        errs.extend(field.invalid(field.key(path, k), v, m) for m in is_valid_label_value(v))
    return errs


def validate_annotations(annotations: Mapping[str, str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for k, v in annotations.items():
        errs.extend(field.invalid(path, k, m) for m in is_qualified_name(k.lower()))
        total += len(k) + len(v)
    if total > TOTAL_ANNOTATION_SIZE:
        errs.append(field.FieldError(field.ErrorType.TOO_LONG, path, f"must have at most {TOTAL_ANNOTATION_SIZE} bytes"))
    return errs


PROPAGATION_POLICIES = ("Background", "Foreground", "Orphan")


def validate_delete_options(opts: DeleteOptions) -> list[FieldError]:
    """The body (or query) of a DELETE, as Kubernetes checks it."""
    errs: list[FieldError] = []
    if opts.orphan_dependents is not None and opts.propagation_policy is not None:
        errs.append(field.invalid("propagationPolicy", opts.propagation_policy,
                                  "orphanDependents and deletionPropagation cannot be both set"))
    if opts.propagation_policy is not None and opts.propagation_policy not in PROPAGATION_POLICIES:
        errs.append(field.not_supported("propagationPolicy", opts.propagation_policy, PROPAGATION_POLICIES))
    for i, mode in enumerate(opts.dry_run):
        if mode != "All":
            errs.append(field.not_supported(field.index("dryRun", i), mode, ("All",)))
    return errs
