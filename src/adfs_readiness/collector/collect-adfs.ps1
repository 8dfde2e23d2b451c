<#
.SYNOPSIS
    adfs-readiness collector v2: reads an AD FS server's or a Web Application Proxy's configuration
    (read-only) into one JSON file.

.DESCRIPTION
    Run it on every AD FS server of the farm and on every Web Application Proxy, in an elevated
    Windows PowerShell 5.1 or PowerShell 7 session, as a local administrator (an AD FS
    administrator on the AD FS servers). Give all the files to adfs-readiness together.

    It only reads. It calls Get-* cmdlets (ADFS and WebApplicationProxy modules, Get-CimInstance,
    Get-HotFix, Get-ItemProperty, Get-Acl, Get-ChildItem on the certificate store), runs
    "netsh http show sslcert", and on a proxy fetches the farm's MEX document once (an HTTP GET)
    to see whether the proxy reaches the farm. Nothing is changed, nothing is installed.

    No secret is exported: certificates as their public DER bytes; for a private key only where it
    is (CNG/CAPI key file name) and who may read it (the file's access rules), never the key.

    Enum values are written as their names, certificates as base64 DER, dates as ISO 8601 (UTC), so
    the file reads the same under Windows PowerShell 5.1 and PowerShell 7. What could not be read
    is listed in CollectorProblems and the rest is still written.

.PARAMETER Path
    Where to write the JSON (default: <computer name>.json in the current folder).

.EXAMPLE
    adfs-readiness collector > collect-adfs.ps1          # on the machine with adfs-readiness
    .\collect-adfs.ps1 -Path C:\temp\adfs1.json          # on each AD FS server and proxy
    adfs-readiness check --config contoso.toml --adfs-export exports\    # a folder of the files
#>
[CmdletBinding()]
param([string]$Path = "$env:COMPUTERNAME.json")

$ErrorActionPreference = "Stop"
$script:problems = @()
$AzureMfaSubject = "*OU=Microsoft AD FS Azure MFA*"
$ProxyTrustSubject = "CN=ADFS ProxyTrust*"

function Get-Guarded([string]$What, [scriptblock]$Block) {
    # One section that cannot be read is a problem in the export, not the end of the collection.
    try { & $Block } catch { $script:problems += "${What}: $($_.Exception.Message)"; $null }
}

function Get-NameOf($value) { if ($null -eq $value) { $null } else { "$value" } }
function Get-NamesOf($values) { if ($null -eq $values) { $null } else { @($values | ForEach-Object { "$_" }) } }
function Get-DateOf($value) { if ($null -eq $value) { $null } else { ([datetime]$value).ToUniversalTime().ToString("o") } }

function Get-PropertyOf($object, [string]$Name) {
    # A property that this version of Windows or AD FS does not have reads as null.
    if ($null -eq $object) { return $null }
    $property = $object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    $property.Value
}

function Get-RegistryValue([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -LiteralPath $Key -ErrorAction SilentlyContinue
    Get-PropertyOf $item $Name
}

function Get-DerOf($certificate) {
    if ($null -eq $certificate) { return $null }
    [ordered]@{ RawData = [Convert]::ToBase64String($certificate.RawData); Thumbprint = $certificate.Thumbprint
                NotAfter = $certificate.NotAfter.ToUniversalTime().ToString("o") }
}

function Get-KeyAccess($certificate) {
    # Where the private key lives (CNG Keys or CAPI MachineKeys) and the key file's access rules.
    $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($certificate)
    if ($null -eq $key) { throw "the private key is not an RSA key" }
    try {
        if ($key -is [System.Security.Cryptography.RSACng]) {
            $provider = "CNG"
            $file = Join-Path $env:ProgramData "Microsoft\Crypto\Keys\$($key.Key.UniqueName)"
        } else {
            $provider = "CAPI"
            $file = Join-Path $env:ProgramData "Microsoft\Crypto\RSA\MachineKeys\$($key.CspKeyContainerInfo.UniqueKeyContainerName)"
        }
    } finally { $key.Dispose() }
    $rules = @((Get-Acl -LiteralPath $file).Access | ForEach-Object {
        [ordered]@{ IdentityReference = "$($_.IdentityReference)"; FileSystemRights = "$($_.FileSystemRights)"
                    AccessControlType = "$($_.AccessControlType)"; IsInherited = $_.IsInherited } })
    [ordered]@{ Provider = $provider; File = (Split-Path -Leaf $file); Rules = $rules }
}

function Get-StoredCertificate([string]$Role, [string]$Thumbprint, $IsPrimary, [bool]$ManagedByAdfs) {
    $entry = [ordered]@{ Role = $Role; Thumbprint = $Thumbprint; IsPrimary = $IsPrimary; ManagedByAdfs = $ManagedByAdfs }
    if ($ManagedByAdfs -or -not $Thumbprint) { return $entry }
    $certificate = Get-Item -LiteralPath "Cert:\LocalMachine\My\$Thumbprint" -ErrorAction SilentlyContinue
    $entry.InStore = $null -ne $certificate
    if ($null -eq $certificate) { return $entry }
    $entry.HasPrivateKey = $certificate.HasPrivateKey
    $entry.Certificate = Get-DerOf $certificate
    if ($certificate.HasPrivateKey) {
        try {
            $access = Get-KeyAccess $certificate
            $entry.KeyProvider = $access.Provider; $entry.KeyFile = $access.File; $entry.KeyAccess = $access.Rules
        } catch { $entry.KeyAccessError = $_.Exception.Message }
    }
    $entry
}

function Get-ServiceState([string]$Name) {
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='$Name'"
    if ($null -eq $service) { return [ordered]@{ Name = $Name; Present = $false } }
    [ordered]@{ Name = $Name; Present = $true; State = "$($service.State)"; StartMode = "$($service.StartMode)"
                StartName = "$($service.StartName)" }
}

function Get-Schannel {
    $base = "HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
    foreach ($protocol in @("TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")) {
        foreach ($side in @("Client", "Server")) {
            [ordered]@{ Protocol = $protocol; Side = $side
                        Enabled = Get-RegistryValue "$base\$protocol\$side" "Enabled"
                        DisabledByDefault = Get-RegistryValue "$base\$protocol\$side" "DisabledByDefault" }
        }
    }
}

function Get-DotNetCrypto {
    foreach ($key in @("SOFTWARE\Microsoft\.NETFramework\v4.0.30319", "SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319")) {
        [ordered]@{ Key = $key; SchUseStrongCrypto = Get-RegistryValue "HKLM:\$key" "SchUseStrongCrypto"
                    SystemDefaultTlsVersions = Get-RegistryValue "HKLM:\$key" "SystemDefaultTlsVersions" }
    }
}

function Get-SslBindingList($bindings) {
    @($bindings | ForEach-Object { [ordered]@{ HostName = "$($_.HostName)"; PortNumber = [int]$_.PortNumber
                                                CertificateHash = "$($_.CertificateHash)" } })
}

# --- which server is this --------------------------------------------------------------------
$adfsService = Get-CimInstance -ClassName Win32_Service -Filter "Name='adfssrv'"
$wapService = Get-CimInstance -ClassName Win32_Service -Filter "Name='appproxysvc'"
$role = $null
if ($null -ne $adfsService) { $role = "AdfsServer" } elseif ($null -ne $wapService) { $role = "WebApplicationProxy" }
if ($null -eq $role) { Write-Warning "Neither AD FS (adfssrv) nor Web Application Proxy (appproxysvc) is installed here." }

$os = Get-CimInstance -ClassName Win32_OperatingSystem
$computer = Get-CimInstance -ClassName Win32_ComputerSystem
$currentVersion = "HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
$server = [ordered]@{
    ComputerName = $env:COMPUTERNAME; DnsHostName = "$($computer.DNSHostName).$($computer.Domain)"; Domain = "$($computer.Domain)"
    OperatingSystem = [ordered]@{ Caption = "$($os.Caption)"; Version = "$($os.Version)"; BuildNumber = "$($os.BuildNumber)"
                                  UBR = Get-RegistryValue $currentVersion "UBR"
                                  InstallationType = Get-RegistryValue $currentVersion "InstallationType" }
    Services = @((Get-ServiceState "adfssrv"), (Get-ServiceState "appproxysvc"))
    Updates = Get-Guarded "Get-HotFix" { @(Get-HotFix | Sort-Object -Property InstalledOn -Descending |
        Select-Object -First 50 | ForEach-Object {
            [ordered]@{ HotFixID = "$($_.HotFixID)"; Description = "$($_.Description)"; InstalledOn = Get-DateOf $_.InstalledOn } }) }
    SslBindings = [ordered]@{ Netsh = Get-Guarded "netsh http show sslcert" { @(netsh http show sslcert) -join "`r`n" } }
    Schannel = @(Get-Schannel)
    DotNetStrongCrypto = @(Get-DotNetCrypto)
}
$export = [ordered]@{ CollectorVersion = "2"; CollectedAt = (Get-Date).ToUniversalTime().ToString("o")
                      ComputerName = $env:COMPUTERNAME; Role = $role; Server = $server }

# --- an AD FS server: the farm's configuration, and its certificates in this server's store ----
if ($role -eq "AdfsServer") {
    Import-Module ADFS
    $p = Get-AdfsProperties
    $export.Properties = [ordered]@{
        HostName = $p.HostName; Identifier = (Get-NameOf $p.Identifier)
        AutoCertificateRollover = $p.AutoCertificateRollover
        CertificateGenerationThreshold = $p.CertificateGenerationThreshold
        CertificatePromotionThreshold = $p.CertificatePromotionThreshold
        EnableExtranetLockout = $p.EnableExtranetLockout; ExtranetLockoutThreshold = $p.ExtranetLockoutThreshold
        ExtranetLockoutMode = (Get-NameOf (Get-PropertyOf $p "ExtranetLockoutMode"))
        ExtranetObservationWindow = (Get-NameOf $p.ExtranetObservationWindow)
        LogLevel = (Get-NamesOf $p.LogLevel); ExtendedProtectionTokenCheck = (Get-NameOf $p.ExtendedProtectionTokenCheck)
        ArtifactDbConnection = $p.ArtifactDbConnection; EnableIdpInitiatedSignonPage = $p.EnableIdpInitiatedSignonPage
        HttpsPort = $p.HttpsPort; TlsClientPort = (Get-PropertyOf $p "TlsClientPort")
    }
    $adfsCertificates = @(Get-AdfsCertificate)
    $export.Certificates = @($adfsCertificates | ForEach-Object {
        [ordered]@{ CertificateType = "$($_.CertificateType)"; IsPrimary = $_.IsPrimary; Thumbprint = $_.Thumbprint
                    Certificate = (Get-DerOf $_.Certificate); StoreLocation = (Get-NameOf $_.StoreLocation)
                    StoreName = (Get-NameOf $_.StoreName) } })
    $export.Endpoints = @(Get-AdfsEndpoint | ForEach-Object {
        [ordered]@{ AddressPath = $_.AddressPath; Enabled = $_.Enabled; Proxy = $_.Proxy; Protocol = (Get-NameOf $_.Protocol) } })
    $export.RelyingPartyTrusts = @(Get-AdfsRelyingPartyTrust | ForEach-Object {
        [ordered]@{ Name = $_.Name; Identifier = (Get-NamesOf $_.Identifier); Enabled = $_.Enabled
                    SignatureAlgorithm = $_.SignatureAlgorithm
                    RequestSigningCertificate = @($_.RequestSigningCertificate | ForEach-Object { Get-DerOf $_ })
                    EncryptionCertificate = @($_.EncryptionCertificate | ForEach-Object { Get-DerOf $_ })
                    IssuanceTransformRules = $_.IssuanceTransformRules } })
    $export.ClaimsProviderTrusts = @(Get-AdfsClaimsProviderTrust | ForEach-Object {
        [ordered]@{ Name = $_.Name; Identifier = (Get-NamesOf $_.Identifier); Enabled = $_.Enabled
                    SignatureAlgorithm = $_.SignatureAlgorithm
                    TokenSigningCertificates = @($_.TokenSigningCertificates | ForEach-Object { Get-DerOf $_ })
                    EncryptionCertificate = @($_.EncryptionCertificate | ForEach-Object { Get-DerOf $_ }) } })
    $export.FarmInformation = Get-Guarded "Get-AdfsFarmInformation (AD FS 2016 and later)" {
        $f = Get-AdfsFarmInformation
        [ordered]@{ CurrentFarmBehavior = [int]$f.CurrentFarmBehavior
                    FarmNodes = @($f.FarmNodes | ForEach-Object { [ordered]@{ FQDN = "$($_.FQDN)"
                                  BehaviorLevel = (Get-PropertyOf $_ "BehaviorLevel")
                                  NodeType = (Get-NameOf (Get-PropertyOf $_ "NodeType")) } }) } }
    $export.AuthenticationProviders = Get-Guarded "Get-AdfsAuthenticationProvider" {
        @(Get-AdfsAuthenticationProvider | ForEach-Object {
            [ordered]@{ Name = $_.Name; DisplayName = $_.DisplayName; IsCustom = (Get-PropertyOf $_ "IsCustom") } }) }
    $export.GlobalAuthenticationPolicy = Get-Guarded "Get-AdfsGlobalAuthenticationPolicy" {
        $g = Get-AdfsGlobalAuthenticationPolicy
        [ordered]@{ AdditionalAuthenticationProvider = (Get-NamesOf $g.AdditionalAuthenticationProvider)
                    PrimaryExtranetAuthenticationProvider = (Get-NamesOf $g.PrimaryExtranetAuthenticationProvider)
                    PrimaryIntranetAuthenticationProvider = (Get-NamesOf $g.PrimaryIntranetAuthenticationProvider) } }

    $server.AdfsVersion = Get-Guarded "AD FS version" {
        (Get-Item -LiteralPath "$env:windir\ADFS\Microsoft.IdentityServer.ServiceHost.exe").VersionInfo.ProductVersion }
    $server.SyncRole = Get-Guarded "Get-AdfsSyncProperties" { "$((Get-AdfsSyncProperties).Role)" }
    $server.SslBindings.Adfs = Get-Guarded "Get-AdfsSslCertificate" { Get-SslBindingList (Get-AdfsSslCertificate) }
    $server.TrustedDevices = Get-Guarded "AdfsTrustedDevices store" {
        @(Get-ChildItem -LiteralPath "Cert:\LocalMachine\AdfsTrustedDevices" | ForEach-Object { $_.Thumbprint }) }
    $stored = @()
    foreach ($c in $adfsCertificates) {
        # Certificates AD FS generated (automatic rollover) live in its database, not in the store.
        $managed = [string]::IsNullOrEmpty("$($c.StoreLocation)")
        $kind = "$($c.CertificateType)".ToLowerInvariant()
        $stored += Get-Guarded "certificate $($c.Thumbprint)" { Get-StoredCertificate $kind $c.Thumbprint $c.IsPrimary $managed }
    }
    foreach ($mfa in @(Get-ChildItem -LiteralPath "Cert:\LocalMachine\My" | Where-Object { $_.Subject -like $AzureMfaSubject })) {
        $stored += Get-Guarded "Azure MFA certificate" { Get-StoredCertificate "azure-mfa" $mfa.Thumbprint $null $false }
    }
    $server.Certificates = $stored
}

# --- a Web Application Proxy: its configuration, proxy trust and SSL certificate ----------------
if ($role -eq "WebApplicationProxy") {
    Import-Module WebApplicationProxy
    $wap = Get-WebApplicationProxyConfiguration
    $farmHost = ([uri]"$($wap.ADFSUrl)").Host
    $proxyTrust = @(Get-ChildItem -LiteralPath "Cert:\LocalMachine\My" | Where-Object { $_.Subject -like $ProxyTrustSubject } |
                    Sort-Object -Property NotAfter -Descending)
    $wapSsl = Get-Guarded "Get-WebApplicationProxySslCertificate" { Get-SslBindingList (Get-WebApplicationProxySslCertificate) }
    $server.SslBindings.Wap = $wapSsl
    $reach = [ordered]@{ FarmReachable = $null; FarmDetail = $null }
    try {
        $answer = Invoke-WebRequest -Uri "https://$farmHost/adfs/services/trust/mex" -Method Get -UseBasicParsing -TimeoutSec 15
        $reach.FarmReachable = $true; $reach.FarmDetail = "HTTP $($answer.StatusCode)"
    } catch { $reach.FarmReachable = $false; $reach.FarmDetail = $_.Exception.Message }
    $server.WebApplicationProxy = [ordered]@{
        ADFSUrl = "$($wap.ADFSUrl)"; ConnectedServersName = (Get-NamesOf $wap.ConnectedServersName)
        ProxyTrustThumbprint = $(if ($proxyTrust.Count -gt 0) { $proxyTrust[0].Thumbprint } else { $null })
        FarmReachable = $reach.FarmReachable; FarmDetail = $reach.FarmDetail }
    $stored = @()
    foreach ($t in $proxyTrust) { $stored += Get-Guarded "proxy-trust certificate" { Get-StoredCertificate "proxy-trust" $t.Thumbprint $null $false } }
    foreach ($hash in @($wapSsl | ForEach-Object { $_.CertificateHash } | Select-Object -Unique)) {
        $stored += Get-Guarded "SSL certificate $hash" { Get-StoredCertificate "wap-ssl" $hash $null $false }
    }
    $server.Certificates = $stored
}

$export.CollectorProblems = $script:problems
$export | ConvertTo-Json -Depth 8 | Out-File -FilePath $Path -Encoding utf8
Write-Host "Wrote $Path ($role$(if ($script:problems.Count) { ", $($script:problems.Count) problem(s) noted in it" }))"
