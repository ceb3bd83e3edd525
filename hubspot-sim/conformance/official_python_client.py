"""HubSpot's official Python client (hubspot-api-client, PyPI) against a running hubspot-sim.

Usage: python3 official_python_client.py BASE_URL CLIENT_ID CLIENT_SECRET PRIVATE_APP_TOKEN
Exits non-zero on the first call whose result does not match what HubSpot's API promises.
The fidelity standard of issue 3: HubSpot's own client libraries work against the simulator
unchanged (only the base URL differs).
"""
import sys
import urllib.parse
import urllib.request

from hubspot import HubSpot
from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

base, client_id, client_secret, private_token = sys.argv[1:5]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    checks += 1
    print(f"ok: {what}")


def client(**kwargs):
    # The only change from production: the library's own `host` setting.
    return HubSpot(host=base, **kwargs)


# --- private-app token: objects, paging, batch, search, properties ---
api = client(access_token=private_token)
page = api.crm.contacts.basic_api.get_page(limit=100, properties=["jobtitle", "email"], associations=["companies"])
check(len(page.results) == 100, "get_page returns 100 contacts")
check(page.paging is not None and page.paging.next.after, "paging.next.after is present")
check(all(isinstance(c.id, str) for c in page.results), "ids are strings")
all_contacts = api.crm.contacts.get_all(properties=["email"])
check(len(all_contacts) == 500, f"get_all pages through every contact ({len(all_contacts)})")
check(len({c.id for c in all_contacts}) == 500, "each contact exactly once")

ids = [c.id for c in all_contacts[:5]]
read = api.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
    inputs=[SimplePublicObjectId(id=i) for i in ids], properties=["email"], properties_with_history=[]))
check(sorted(r.id for r in read.results) == sorted(ids), "batch read returns the requested ids")

try:
    api.crm.properties.groups_api.create("contacts", PropertyGroupCreate(name="conturs", label="Conturs"))
except PropertiesApiException as e:
    check(e.status == 409, "group create: 409 if it exists")
prop = api.crm.properties.core_api.create("contacts", PropertyCreate(
    name="conturs_score", label="Conturs score", type="number", field_type="number", group_name="conturs"))
check(prop.name == "conturs_score" and prop.type == "number", "property created (201)")
try:
    api.crm.properties.core_api.create("contacts", PropertyCreate(
        name="conturs_score", label="again", type="number", field_type="number", group_name="conturs"))
    check(False, "duplicate property must fail")
except PropertiesApiException as e:
    check(e.status == 409 and "OBJECT_ALREADY_EXISTS" in e.body, "duplicate property: 409 OBJECT_ALREADY_EXISTS")

updated = api.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(
    inputs=[SimplePublicObjectBatchInput(id=i, properties={"conturs_score": "87"}) for i in ids]))
check(updated.status == "COMPLETE" and len(updated.results) == 5, "batch update COMPLETE")
check(all(r.properties.get("conturs_score") == "87" for r in updated.results), "values come back as strings")
try:
    api.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(
        inputs=[SimplePublicObjectBatchInput(id=ids[0], properties={"no_such_property": "x"})]))
    check(False, "unknown property must fail")
except ContactsApiException as e:
    check(e.status == 400 and "PROPERTY_DOESNT_EXIST" in e.body, "unknown property: 400 PROPERTY_DOESNT_EXIST")

found = api.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
    filter_groups=[{"filters": [{"propertyName": "conturs_score", "operator": "EQ", "value": "87"}]}],
    properties=["conturs_score"], limit=10))
check(found.total >= 0, f"search answers with a total ({found.total})")

# --- OAuth: authorize (auto-approve), code exchange, refresh, token info ---
redirect = "http://localhost/callback"
query = urllib.parse.urlencode({"client_id": client_id, "redirect_uri": redirect,
                                "scope": "oauth crm.objects.contacts.read", "state": "xyz"})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(f"{base}/oauth/authorize?{query}")
    check(False, "authorize must redirect")
except urllib.error.HTTPError as e:
    location = e.headers["Location"]
    params = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    check(e.code in (302, 303) and params.get("state") == ["xyz"], "authorize redirects with code and state")
    code = params["code"][0]

anon = client()
tokens = anon.oauth.tokens_api.create(grant_type="authorization_code", code=code, redirect_uri=redirect,
                                      client_id=client_id, client_secret=client_secret)
check(tokens.access_token and tokens.refresh_token and tokens.expires_in == 1800, "code exchange returns tokens")
refreshed = anon.oauth.tokens_api.create(grant_type="refresh_token", refresh_token=tokens.refresh_token,
                                         client_id=client_id, client_secret=client_secret)
check(refreshed.access_token != tokens.access_token, "refresh returns a new access token")
info = anon.oauth.access_tokens_api.get(refreshed.access_token)
check(info.hub_id and "crm.objects.contacts.read" in info.scopes, "access-token info names the portal and scopes")
oauth_api = client(access_token=refreshed.access_token)
check(len(oauth_api.crm.contacts.basic_api.get_page(limit=3).results) == 3, "OAuth token reads contacts")
try:
    anon.oauth.tokens_api.create(grant_type="refresh_token", refresh_token="bogus",
                                 client_id=client_id, client_secret=client_secret)
    check(False, "bad refresh token must fail")
except Exception as e:  # the oauth module has its own ApiException class
    check(getattr(e, "status", None) == 400 and "BAD_REFRESH_TOKEN" in getattr(e, "body", ""),
          "bad refresh token: 400 BAD_REFRESH_TOKEN")

print(f"all {checks} checks passed with hubspot-api-client against {base}")
