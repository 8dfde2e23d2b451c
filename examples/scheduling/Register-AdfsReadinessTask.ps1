# Registers a daily Windows scheduled task that runs adfs-readiness as a service account.
# Run in an elevated PowerShell. The gMSA (or account) needs "Log on as a batch job".
# The webhook URL and LDAP password are read from the account's environment (or use
# directory.password_source = "keyring" in the config), never written into the task.
$exe    = 'C:\Program Files\adfs-readiness\Scripts\adfs-readiness.exe'
$config = 'C:\ProgramData\adfs-readiness\contoso.toml'
$out    = 'C:\ProgramData\adfs-readiness\reports'

$action = New-ScheduledTaskAction -Execute $exe `
    -Argument "check --config `"$config`" --html `"$out\report.html`" --json `"$out\report.json`" --junit `"$out\junit.xml`" --lock-wait 300 -q" `
    -WorkingDirectory 'C:\ProgramData\adfs-readiness'
$trigger   = New-ScheduledTaskTrigger -Daily -At 6:15am
$settings  = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 30) -MultipleInstances IgnoreNew -StartWhenAvailable
$principal = New-ScheduledTaskPrincipal -UserId 'CONTOSO\gmsa-readiness$' -LogonType Password

Register-ScheduledTask -TaskName 'AD FS readiness check' -TaskPath '\adfs-readiness\' `
    -Action $action -Trigger $trigger -Settings $settings -Principal $principal `
    -Description 'Daily adfs-readiness check; exit code 0 READY, 1 warnings, 2 NOT READY, 3 incomplete'
