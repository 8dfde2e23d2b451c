# Registers a daily Windows scheduled task that runs adfs-readiness as a gMSA, installed as in
# docs/scheduling.md ("Windows"): a virtual environment in C:\Program Files\adfs-readiness made
# with the Python launcher, the configuration and reports in C:\ProgramData\adfs-readiness.
# Run it in an elevated PowerShell on the machine that runs the checks.
#
# The gMSA needs "Log on as a batch job" and read access to the configuration folder, write access
# to the reports folder. It binds to Active Directory with its own Kerberos identity
# (directory.auth = "kerberos" in the configuration, installed with the [kerberos] extra), so no
# password is stored anywhere. A webhook URL, if used, goes into the machine environment variable
# ADFS_READINESS_WEBHOOK_URL (readable by local users), never into the task.
$exe     = 'C:\Program Files\adfs-readiness\Scripts\adfs-readiness.exe'
$data    = 'C:\ProgramData\adfs-readiness'
$config  = "$data\contoso.toml"
$reports = "$data\reports"
$account = 'CONTOSO\gmsa-readiness$'

New-Item -ItemType Directory -Force -Path $reports | Out-Null
$arguments = "check --config `"$config`" --history `"$data\history.sqlite3`" --html `"$reports\report.html`" " +
             "--json `"$reports\report.json`" --junit `"$reports\junit.xml`" --lock-wait 300 -q"
$action    = New-ScheduledTaskAction -Execute $exe -Argument $arguments -WorkingDirectory $data
$trigger   = New-ScheduledTaskTrigger -Daily -At 6:15am
$settings  = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 30) -MultipleInstances IgnoreNew -StartWhenAvailable
$principal = New-ScheduledTaskPrincipal -UserId $account -LogonType Password

Register-ScheduledTask -TaskName 'AD FS readiness check' -TaskPath '\adfs-readiness\' `
    -Action $action -Trigger $trigger -Settings $settings -Principal $principal `
    -Description 'Daily adfs-readiness check; exit code 0 READY, 1 warnings, 2 NOT READY, 3 incomplete'
