"""Local servers that speak third-party protocols (gateways, SMS, push, OIDC) for dev and
tests. They stand for a third party, so they import nothing of tiffin but `infra`."""
