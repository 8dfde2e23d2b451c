<#
.SYNOPSIS
    adfs-readiness collector: reads the AD FS configuration (read-only) into one JSON file.

.DESCRIPTION
    Run on an AD FS server (the primary node of a WID farm, or any node of a SQL farm) in an
    elevated PowerShell, as a member of the local Administrators group. It only calls Get-*
    cmdlets of the ADFS module: Get-AdfsProperties, Get-AdfsCertificate, Get-AdfsEndpoint,
    Get-AdfsRelyingPartyTrust, Get-AdfsClaimsProviderTrust, Get-AdfsFarmInformation. Nothing is
    changed. No secret is exported: certificates are exported as their public DER bytes only.

    Enum values are written as their names, certificates as base64 DER, dates as ISO 8601 (UTC),
    so the file reads the same under Windows PowerShell 5.1 and PowerShell 7.

.PARAMETER Path
    Where to write the JSON (default: adfs-export.json in the current folder).

.EXAMPLE
    adfs-readiness collector > collect-adfs.ps1     # on the machine with adfs-readiness
    .\collect-adfs.ps1 -Path C:\temp\adfs-export.json   # on the AD FS server
    adfs-readiness check --config contoso.toml --adfs-export adfs-export.json
#>
[CmdletBinding()]
param([string]$Path = "adfs-export.json")

Set-StrictMode -Version 2
$ErrorActionPreference = "Stop"
Import-Module ADFS

function Name($value) { if ($null -eq $value) { $null } else { "$value" } }
function Names($values) { if ($null -eq $values) { $null } else { @($values | ForEach-Object { "$_" }) } }
function Der($certificate) {
    if ($null -eq $certificate) { return $null }
    @{ RawData = [Convert]::ToBase64String($certificate.RawData); Thumbprint = $certificate.Thumbprint;
       NotAfter = $certificate.NotAfter.ToUniversalTime().ToString("o") }
}

$p = Get-AdfsProperties
$properties = [ordered]@{
    HostName = $p.HostName; Identifier = (Name $p.Identifier)
    AutoCertificateRollover = $p.AutoCertificateRollover
    CertificateGenerationThreshold = $p.CertificateGenerationThreshold
    CertificatePromotionThreshold = $p.CertificatePromotionThreshold
    EnableExtranetLockout = $p.EnableExtranetLockout; ExtranetLockoutThreshold = $p.ExtranetLockoutThreshold
    ExtranetLockoutMode = (Name $p.ExtranetLockoutMode); ExtranetObservationWindow = (Name $p.ExtranetObservationWindow)
    LogLevel = (Names $p.LogLevel); ExtendedProtectionTokenCheck = (Name $p.ExtendedProtectionTokenCheck)
    ArtifactDbConnection = $p.ArtifactDbConnection; EnableIdpInitiatedSignonPage = $p.EnableIdpInitiatedSignonPage
}
$certificates = @(Get-AdfsCertificate | ForEach-Object {
    [ordered]@{ CertificateType = $_.CertificateType; IsPrimary = $_.IsPrimary; Thumbprint = $_.Thumbprint
                Certificate = (Der $_.Certificate) } })
$endpoints = @(Get-AdfsEndpoint | ForEach-Object {
    [ordered]@{ AddressPath = $_.AddressPath; Enabled = $_.Enabled; Proxy = $_.Proxy; Protocol = (Name $_.Protocol) } })
$relyingParties = @(Get-AdfsRelyingPartyTrust | ForEach-Object {
    [ordered]@{ Name = $_.Name; Identifier = (Names $_.Identifier); Enabled = $_.Enabled
                SignatureAlgorithm = $_.SignatureAlgorithm
                RequestSigningCertificate = @($_.RequestSigningCertificate | ForEach-Object { Der $_ })
                EncryptionCertificate = @($_.EncryptionCertificate | ForEach-Object { Der $_ }) } })
$claimsProviders = @(Get-AdfsClaimsProviderTrust | ForEach-Object {
    [ordered]@{ Name = $_.Name; Identifier = (Names $_.Identifier); Enabled = $_.Enabled
                SignatureAlgorithm = $_.SignatureAlgorithm
                TokenSigningCertificates = @($_.TokenSigningCertificates | ForEach-Object { Der $_ })
                EncryptionCertificate = @($_.EncryptionCertificate | ForEach-Object { Der $_ }) } })
$farm = $null
try {
    $f = Get-AdfsFarmInformation
    $farm = [ordered]@{ CurrentFarmBehavior = [int]$f.CurrentFarmBehavior
                        FarmNodes = @($f.FarmNodes | ForEach-Object { [ordered]@{ FQDN = $_.FQDN } }) }
} catch { Write-Warning "Get-AdfsFarmInformation is not available (AD FS 2012 R2): $_" }

$export = [ordered]@{
    CollectorVersion = "1"; CollectedAt = (Get-Date).ToUniversalTime().ToString("o"); ComputerName = $env:COMPUTERNAME
    Properties = $properties; Certificates = $certificates; Endpoints = $endpoints
    RelyingPartyTrusts = $relyingParties; ClaimsProviderTrusts = $claimsProviders; FarmInformation = $farm
}
$export | ConvertTo-Json -Depth 8 | Out-File -FilePath $Path -Encoding utf8
Write-Host "Wrote $Path"
