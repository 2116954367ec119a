from webapp.extensions import db
from . import factories


def test_owner_lands_in_default_group(client, auth):
    account = factories.make_account("Acme")
    owner = factories.owner_of(account)
    db.session.commit()
    auth.login(owner)
    response = client.get("/")
    assert response.status_code == 303
    assert response.location.endswith(f"/g/{factories.default_group(account).id}/")
