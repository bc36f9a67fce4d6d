"""Drives the emulator with Google's Python client (google-api-python-client),
built from the Chat discovery document, and prints what the client saw as
one JSON line per step: the test in pyclient_test.go checks it.

Usage: pyclient.py DISCOVERY_JSON BASE_URL
"""
import json
import sys

import httplib2
from googleapiclient import discovery, errors


def main():
    doc_path, base = sys.argv[1], sys.argv[2]
    with open(doc_path) as f:
        doc = json.load(f)
    doc["rootUrl"] = base
    doc["baseUrl"] = base + doc.get("servicePath", "")
    http = httplib2.Http(proxy_info=None, timeout=10)
    chat = discovery.build_from_document(doc, http=http)

    space = {"displayName": "Python", "spaceType": "SPACE"}
    steps = [
        ("create", lambda: chat.spaces().create(body=space, requestId="py-1")),
        ("replay", lambda: chat.spaces().create(body=space, requestId="py-1")),
        ("conflict", lambda: chat.spaces().create(body={"displayName": "python", "spaceType": "SPACE"})),
        ("unknown fields", lambda: chat.spaces().create(body={"displayName": "x", "spaceType": "SPACE", "colour": 1, "size": 2})),
        ("throttled", lambda: chat.spaces().create(body={"displayName": "Second", "spaceType": "SPACE"})),
        ("patch", lambda: chat.spaces().patch(name=NAME[0], updateMask="space_details",
                                              body={"spaceDetails": {"description": "d", "guidelines": "g"}})),
        ("message", lambda: chat.spaces().messages().create(parent=NAME[0], messageId="client-py", requestId="m-1",
                                                            body={"text": "hello"})),
        ("member", lambda: chat.spaces().members().create(parent=NAME[0],
                                                          body={"member": {"name": "users/py@example.com", "type": "HUMAN"}})),
        ("promote", lambda: chat.spaces().members().patch(name=MEMBER[0], updateMask="role",
                                                          body={"role": "ROLE_ASSISTANT_MANAGER"})),
        ("search", lambda: chat.spaces().search(useAdminAccess=True, pageSize=10,
                                                query='customer = "customers/my_customer" AND space_type = "SPACE"')),
        # The field names as GAM7 and the reference's examples write them.
        ("search camelCase", lambda: chat.spaces().search(
            useAdminAccess=True, orderBy="createTime",
            query='customer = "customers/my_customer" AND spaceType = "SPACE" AND displayName:"pyth"')),
        ("search as a member", lambda: chat.spaces().search(query='spaceType = "SPACE" AND displayName:"Python"')),
        ("patch permission", lambda: chat.spaces().patch(name=NAME[0], updateMask="permission_settings.manageApps",
                                                         body={"permissionSettings": {"manageApps": {"managersAllowed": True}}})),
        ("get", lambda: chat.spaces().get(name=NAME[0])),
    ]
    for step, request in steps:
        out = {"step": step}
        try:
            resp = request().execute()
            out["status"] = 200
            out["body"] = resp
            if step == "create":
                NAME[0] = resp["name"]
            if step == "member":
                MEMBER[0] = resp["name"]
        except errors.HttpError as e:
            out["status"] = e.resp.status
            out["reason"] = e._get_reason()
            out["retryAfter"] = e.resp.get("retry-after")
            out["body"] = json.loads(e.content.decode("utf-8"))
        print(json.dumps(out), flush=True)


NAME = [""]
MEMBER = [""]

if __name__ == "__main__":
    main()
