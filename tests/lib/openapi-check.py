#!/usr/bin/python3
"""openapi-check - answers of a server checked against an OpenAPI 3.1 document

usage: openapi-check.py OPENAPI.yaml ANSWERS.tsv

Each line of ANSWERS.tsv is METHOD, PATH (with its query), STATUS, the file of
the response's headers (curl -D) and the file of its body, separated by tabs.
Each answer must be one the document describes: its path matches a path
template, the method is one of that path's (else the answer must be 405), the
status is listed for the operation (an unknown path: 404), the headers the
response requires are present, and a JSON body is valid against the
response's schema (JSON Schema 2020-12, $refs resolved in the document).  A
HEAD answer has no body to check.  Prints one line per problem and exits 1 when
there are any; prints the number of answers checked otherwise.
"""
import json
import re
import sys

import yaml
from jsonschema import Draft202012Validator, RefResolver


def template_re(t):
    """the regular expression of a path template"""
    out = ""
    for part in re.split(r"(\{[^}]+\})", t):
        out += "[^/]+" if part.startswith("{") else re.escape(part)
    return re.compile("^" + out + "$")


def headers_of(path):
    """the last response's headers, names lowercased"""
    h = {}
    for line in open(path, encoding="latin-1").read().splitlines():
        if line.startswith("HTTP/"):
            h = {}
        elif ":" in line:
            k, v = line.split(":", 1)
            h[k.strip().lower()] = v.strip()
    return h


def main():
    doc = yaml.safe_load(open(sys.argv[1]))
    resolver = RefResolver.from_schema(doc)
    error_schema = {"$ref": "#/components/schemas/Error"}
    templates = [(template_re(t), t) for t in doc["paths"]]
    problems, n = [], 0

    def deref(obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = resolver.resolve(obj["$ref"])
        return obj

    def check_body(what, schema, body_path):
        try:
            body = json.load(open(body_path))
        except ValueError as e:
            problems.append("%s: the body is not JSON: %s" % (what, e))
            return
        v = Draft202012Validator(schema, resolver=resolver)
        for e in v.iter_errors(body):
            problems.append("%s: %s at %s" % (what, e.message, "/".join(map(str, e.path))))

    for line in open(sys.argv[2]):
        method, path, status, hfile, bfile = line.rstrip("\n").split("\t")
        n += 1
        what = "%s %s -> %s" % (method, path, status)
        p = path.split("?", 1)[0]
        found = [t for r, t in templates if r.match(p)]
        op_method = "get" if method == "HEAD" else method.lower()
        if not found:
            if status != "404":
                problems.append("%s: a path the document does not have, answered other than 404" % what)
            elif method != "HEAD":
                check_body(what, error_schema, bfile)
            continue
        item = doc["paths"][found[0]]
        if op_method not in item:
            if status != "405":
                problems.append("%s: a method the path does not have, answered other than 405" % what)
            elif method != "HEAD":
                check_body(what, error_schema, bfile)
            continue
        responses = item[op_method]["responses"]
        if status not in responses:
            problems.append("%s: status %s not documented for %s %s" % (what, status, op_method, found[0]))
            continue
        resp = deref(responses[status])
        h = headers_of(hfile)
        for name, spec in (resp.get("headers") or {}).items():
            spec = deref(spec)
            if spec.get("required") and name.lower() not in h:
                problems.append("%s: header %s missing" % (what, name))
            elif name.lower() in h and spec.get("schema", {}).get("type") == "integer":
                if not re.fullmatch(r"[0-9]+", h[name.lower()]) or int(h[name.lower()]) < spec["schema"].get("minimum", 0):
                    problems.append("%s: header %s: %r" % (what, name, h[name.lower()]))
        content = resp.get("content")
        if method == "HEAD":
            continue
        if not content:
            if open(bfile, "rb").read():
                problems.append("%s: a body where the document has none" % what)
            continue
        ctype = h.get("content-type", "").split(";")[0].strip()
        if ctype not in content:
            problems.append("%s: content type %r not documented" % (what, ctype))
            continue
        check_body(what, content[ctype]["schema"], bfile)
    for p in problems:
        print(p)
    if not problems:
        print("%d answers valid" % n)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
