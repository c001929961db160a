"""What ``deployment.zip`` leaves out: code that nothing the functions run imports.

Each entry names a path prefix inside the zip and why no function reaches it.
``tests/infra/package/test_finish.py`` imports every handler, every
``chalicelib`` module and the libraries' runtime paths from the trimmed, unpacked
zip, so a prefix that something still needs fails there, not in Lambda.
"""

from __future__ import annotations

UNUSED: dict[str, str] = {
    # Powertools' web framework (and its 1.7 MB Swagger UI bundle): the API is Chalice's. The one
    # reference from kept code, shared.functions.pydantic_to_dict, serialises pydantic models for
    # its JSON encoder; our idempotency records and log fields are plain dicts and strings.
    "aws_lambda_powertools/event_handler/": "web framework; Chalice serves the API",
    "aws_lambda_powertools/utilities/auth_alpha/": "JWT helpers for event_handler; chalicelib.auth uses PyJWT",
    "aws_lambda_powertools/utilities/batch/": "partial batches are chalicelib.core.batch's (cold start)",
    "aws_lambda_powertools/utilities/circuit_breaker/": "not used",
    "aws_lambda_powertools/utilities/data_classes/": "event shapes for batch/event_handler; handlers read dicts",
    "aws_lambda_powertools/utilities/data_masking/": "not used",
    "aws_lambda_powertools/utilities/feature_flags/": "not used (AppConfig)",
    "aws_lambda_powertools/utilities/kafka/": "not used",
    "aws_lambda_powertools/utilities/metadata/": "not used",
    "aws_lambda_powertools/utilities/parser/": "pydantic event models for batch/event_handler; not used",
    "aws_lambda_powertools/utilities/parameters/": "not used (SSM/AppConfig); secrets go through chalicelib.core.aws",
    "aws_lambda_powertools/utilities/streaming/": "not used (S3 streaming)",
    "aws_lambda_powertools/utilities/validation/": "not used (JSON Schema validation; models are pydantic)",
    # pydantic's copy of its 1.x API, reached only for v1 models or deprecated import paths: we have neither.
    "pydantic/v1/": "pydantic 1.x compatibility API",
    "pydantic/mypy.py": "mypy plugin (imports mypy, which is not shipped)",
    # cryptography's Rust extension loads the compiled _cffi_backend module only; cffi's Python
    # package (the FFI builder) and its C parser are for building extensions.
    "cffi/": "FFI builder; the runtime part is _cffi_backend*.so, kept",
    "pycparser/": "C parser for the cffi builder",
    # The X-Ray SDK's patchers (requests, botocore, SQL drivers...), loaded only by patch(); chalicelib.core.tracing
    # opens its subsegments by hand and patches nothing.
    "aws_xray_sdk/ext/": "library patchers; nothing is patched",
    # aws-xray-sdk's dependencies that the Lambda Python runtime already provides (bench.cold_start's
    # RUNTIME_PACKAGES): pip brings them along, but the runtime's copies are the ones boto3 runs with.
    "botocore/": "in the Lambda runtime",
    "botocore-": "in the Lambda runtime",
    "dateutil/": "in the Lambda runtime (botocore's dependency)",
    "python_dateutil-": "in the Lambda runtime",
    "urllib3/": "in the Lambda runtime (chalicelib.core.http uses the runtime's)",
    "urllib3-": "in the Lambda runtime",
    "six.py": "in the Lambda runtime (python-dateutil's dependency)",
    "six-": "in the Lambda runtime",
    "wrapt-stubs/": "type stubs, for mypy only",
    "wrapt/_wrappers.c": "the C source of wrapt's compiled extension, which is shipped",
}


# Inside any ``*.dist-info/``: pip's install record and the build's bill of materials are read by tools,
# never at run time (``importlib.metadata`` reads METADATA, which stays).
UNUSED_IN_DIST_INFO: dict[str, str] = {
    "RECORD": "pip's list of installed files, for uninstalling",
    "sboms/": "the wheel's software bill of materials",
}


def unused(name: str) -> bool:
    """Whether the zip entry ``name`` (a ``/``-separated path) is left out of the package."""
    if any(name == prefix or name.startswith(prefix) for prefix in UNUSED):
        return True
    top, _, rest = name.partition("/")
    return top.endswith(".dist-info") and any(rest == part or rest.startswith(part) for part in UNUSED_IN_DIST_INFO)
