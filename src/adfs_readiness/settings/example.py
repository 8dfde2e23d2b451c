"""The commented example configuration ``adfs-readiness init`` writes: every table and key, with
placeholders under ``.invalid`` (RFC 6761: never resolves) that the run refuses until edited, so
an unedited file can never check someone else's service by accident."""

from __future__ import annotations

__all__ = ["EXAMPLE_CONFIG"]

EXAMPLE_CONFIG = '''\
# adfs-readiness configuration (TOML). Every key is optional unless said otherwise;
# command-line flags override what is set here. Written by `adfs-readiness init`.
# The names under .invalid are placeholders: the run refuses them until you put yours in.
# Strings: "..." treats a backslash as an escape; write Windows names as 'CORP\\svc' (single
# quotes) or as a UPN. Relative paths are relative to this file's folder.

[federation]
# The federation service name: the host name in https://<name>/adfs/ls/ (required for live checks).
service_name = "sts.example.invalid"
# The Microsoft 365 / Entra ID domains federated (or about to be federated) with this service.
domains = ["example.invalid"]
# The expected entityID / issuer URI. Default: http://<service_name>/adfs/services/trust
# expected_issuer = "http://sts.contoso.com/adfs/services/trust"
# Connect the federation service name to this address instead of resolving it (like curl --resolve):
# test one node behind a load balancer before DNS moves. host[:port], default port 443.
# service_address = "10.0.0.10:443"
# AD FS farm nodes and Web Application Proxy servers, host[:port]. Each is probed with
# SNI and Host = the federation service name.
farm_nodes = []          # e.g. ["adfs1.corp.contoso.com", "10.0.0.11:443"]
proxies = []             # e.g. ["203.0.113.10", "wap1.dmz.contoso.com:443"]
# Read federation metadata from a file or URL instead of the live service.
# metadata = "FederationMetadata.xml"

[dns]
# DNS servers of each view, ip[:port]. Empty = the system resolver (the report says so).
internal_resolvers = []  # e.g. ["10.0.0.1"]
external_resolvers = []  # e.g. ["1.1.1.1", "9.9.9.9:53"]
# What the federation service name should resolve to in each view (dns.split-brain).
# Empty = the IP addresses among federation.farm_nodes (internal) and federation.proxies (external).
# expected_internal_addresses = ["10.0.0.10"]
# expected_external_addresses = ["203.0.113.10"]
# CAA issuer domains of the CA that issued the SSL certificate, when dns.caa does not know the CA.
# certificate_caa_domains = ["pki.contoso.com"]
# The MS=ms... TXT value Microsoft 365 gave for each domain (dns.m365-verification).
# [dns.m365_verification]
# "contoso.com" = "MS=ms12345678"

[directory]
# Active Directory over LDAP, read-only. Empty server = find DCs from the AD SRV records.
# server = "ldaps://dc1.corp.contoso.com"
# base_dn = "DC=corp,DC=contoso,DC=com"   # default: the RootDSE's defaultNamingContext
# bind_user = 'CORP\\svc-readiness'          # single quotes: the backslash stays a backslash
# auth = "simple"                          # "simple", "ntlm" or "kerberos"
# start_tls = false
# The password is never stored here. It comes from an environment variable, a prompt or the keyring:
password_source = "env"                    # "env", "prompt" or "keyring"
password_env = "ADFS_READINESS_LDAP_PASSWORD"
# keyring_service = "adfs-readiness"
# ca_bundle = "corp-root-ca.pem"           # CA for LDAPS / StartTLS
# service_account = "gmsa-adfs$"           # the AD FS service account (sAMAccountName)
# ad_domain = "corp.contoso.com"           # AD DNS domain for dns.ad-srv (default: from base_dn)
# forest_root = "contoso.com"              # forest root for _gc._tcp (default: ad_domain)
# adfs_version = "2019"                    # AD FS version targeted: 2016+ wants schema objectVersion >= 85
# csv_dir = "directory-report"             # every object-level problem as CSV (also --csv-dir)

[thresholds]
# Days before expiry (fail below the first, warn below the second).
token_signing_fail_days = 14
token_signing_warn_days = 90
token_decrypting_fail_days = 14
token_decrypting_warn_days = 90
# Warn when the primary token-signing certificate has fewer days than this and no successor is
# published (AD FS CertificateGenerationThreshold).
rollover_warn_days = 20
tls_fail_days = 14
tls_warn_days = 90
trust_certificate_warn_days = 30
clock_skew_warn_seconds = 60
clock_skew_fail_seconds = 300
latency_warn_ms = 1500
min_rsa_bits = 2048
# AD FS server exports: newest installed update older than (warn / fail), Windows Server end of
# support within, Azure MFA adapter certificate and WAP proxy-trust certificate days left.
update_warn_days = 60
update_fail_days = 180
os_support_warn_days = 180
mfa_certificate_warn_days = 60
proxy_trust_warn_days = 3

[scope]
# Features in use; checks for features not in use report "skip".
certificate_authentication = false
device_registration = false
exchange_online = true

[checks]
# Check ids, id prefixes ("token-signing.*") or whole areas ("dns.*") not to run; reported as skipped.
skip = []                # e.g. ["metadata.claims-offered", "token-signing.*", "dns.*"]

[network]
timeout_seconds = 10     # per connection / read / DNS query
deadline_seconds = 120   # the whole run
max_download_bytes = 10485760
# allow_link_local = false  # true: also connect to link-local / cloud metadata addresses (169.254.x.x)

[tls]
# Extra CA certificates (PEM) to trust in addition to the system store, e.g. an enterprise root CA.
# ca_bundle = "corp-root-ca.pem"
# CA certificates to count as publicly trusted in the external view (default: only the system store
# and certifi). Set it only when every external client trusts this CA (managed devices, a lab).
# external_ca_bundle = "lab-root-ca.pem"
# The certificate-authentication port probed when scope.certificate_authentication is true.
# certauth_port = 49443

[history]
# Every run is recorded (SQLite) so reports can say what changed since the last run.
# Default path: the user data folder (see `adfs-readiness history list`).
enabled = true
# path = "/var/lib/adfs-readiness/history.sqlite3"

[endpoints]
# /adfs/probe URLs (HTTP) for the load balancer health probe. Default: http://<node or proxy>/adfs/probe
# probe_urls = ["http://adfs1.corp.contoso.com/adfs/probe"]
# latency_samples = 3    # requests per place for endpoints.latency (the median is judged)

[cloud]
# Microsoft's sign-in host for realm discovery: login.microsoftonline.com (worldwide),
# login.microsoftonline.us (US Government), login.chinacloudapi.cn (China, 21Vianet).
# login_host = "login.microsoftonline.com"
# realm_discovery = true   # false: do not ask the login host (cloud.realm-discovery and cloud.tenant skip)
# Entra federation settings exported with Microsoft Graph PowerShell (docs/cloud.md):
# entra_export = "entra-federation.json"     # (formerly federation_export)
# ...or read live from Microsoft Graph with an app registration (Domain.Read.All):
# tenant_id = "00000000-0000-0000-0000-000000000000"
# client_id = "00000000-0000-0000-0000-000000000000"
# client_secret_env = "ADFS_READINESS_GRAPH_SECRET"   # or client_certificate = "app.pem"
# graph_host = "graph.microsoft.com"

[adfs]
# The JSON written on each AD FS server and each Web Application Proxy by the bundled collector
# (adfs-readiness collector > collect-adfs.ps1): one file, a list of files, or a folder of them.
# export = ["adfs1.json", "adfs2.json", "wap1.json"]
# The sourceAnchor Entra Connect uses: "ms-DS-ConsistencyGuid" (its default since 2017) or "objectGUID".
# Default: inferred from the directory (adfs.o365-claim-rules).
# source_anchor = "ms-DS-ConsistencyGuid"
# upn_attribute = "userPrincipalName"   # the attribute Entra Connect syncs as the UPN

[sign_in_test]
# endpoints.sign-in-test: a real WS-Trust sign-in through the proxy, as Microsoft 365 rich clients do.
# Off unless upn is set. Use a dedicated account without MFA; its password is never stored here.
# upn = "sso-test@contoso.com"
# password_source = "env"                  # "env", "prompt" or "keyring"
# password_env = "ADFS_READINESS_SIGNIN_PASSWORD"
# immutable_id = "base64 of the account's source anchor"   # optional: the token must carry it

[limits]
# Caps on hostile or damaged input and on report size (docs/hardening.md). Raise one only for a
# file you trust that is really that big.
# max_input_bytes = 67108864      # largest export, snapshot, CA bundle or key file read (64 MiB)
# max_export_items = 20000        # longest list in an AD FS / Entra export or a snapshot
# max_pfx_iterations = 600000     # highest PKCS#12 MAC / key-derivation iteration count in a PFX
# max_report_rows = 100           # findings per check in the reports; the CSV report has them all

[suppressions]
# Accepted risks: findings that stay visible, marked, but do not lower the grade (docs/scheduling.md).
# file = "accepted-risks.toml"

[certificate]
# A new SSL certificate to judge before deployment (PEM, DER or PFX/PKCS#12); also --certificate.
# file = "new-ssl.pfx"
# password_env = "ADFS_READINESS_PFX_PASSWORD"   # the PFX password comes from this variable, never from here

# [lab] is for the built-in demo lab only ('adfs-readiness lab up' writes it); leave it out.
# [lab]
# directory_recording = "directory-recording.json"
'''
