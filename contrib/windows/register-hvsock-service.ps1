<#
.SYNOPSIS
Registers, lists or removes Hyper-V socket service GUIDs on this host, as
"hvrelay register" does.

.DESCRIPTION
A program on a Hyper-V host may only use a Hyper-V socket service once the
service GUID is registered: a key named after the GUID (lower case, no
braces) under
HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices
with a REG_SZ value ElementName. A vsock port number stands for its
template GUID PORT-facb-11e6-bd58-64006a7986d3 (the port in hex), which
is what Linux guests use.

Registering and removing need an elevated prompt (Run as administrator);
listing does not. The 64-bit registry view is used even from a 32-bit
PowerShell, because that is the one Hyper-V reads.

.PARAMETER Port
A vsock port (0 to 4294967294); its template GUID is registered.

.PARAMETER Guid
A service GUID, with or without braces.

.PARAMETER Name
The ElementName to store. Default: "hvrelay port PORT" or "hvrelay GUID".

.PARAMETER Remove
Removes the registration of -Port or -Guid instead.

.PARAMETER List
Lists every registered service: its GUID, the port for a template GUID,
and its ElementName.

.EXAMPLE
.\register-hvsock-service.ps1 -Port 22 -Name "ssh into my VM"

Registers 00000016-facb-11e6-bd58-64006a7986d3.

.EXAMPLE
.\register-hvsock-service.ps1 -Guid 5f0d6e8a-3c39-4f6c-9b4a-0a1f2e3d4c5b

.EXAMPLE
.\register-hvsock-service.ps1 -Port 22 -Remove

.EXAMPLE
.\register-hvsock-service.ps1 -List

.LINK
https://learn.microsoft.com/virtualization/hyper-v-on-windows/user-guide/make-integration-service
#>
[CmdletBinding(DefaultParameterSetName = 'List', SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true, ParameterSetName = 'Port', Position = 0)]
    [ValidateRange(0, 4294967294)]
    [uint32] $Port,

    [Parameter(Mandatory = $true, ParameterSetName = 'Guid')]
    [guid] $Guid,

    [Parameter(ParameterSetName = 'Port', Position = 1)]
    [Parameter(ParameterSetName = 'Guid')]
    [ValidateLength(1, 255)]
    [string] $Name,

    [Parameter(ParameterSetName = 'Port')]
    [Parameter(ParameterSetName = 'Guid')]
    [switch] $Remove,

    [Parameter(ParameterSetName = 'List')]
    [switch] $List
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ServicesPath = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices'
$TemplateSuffix = '-facb-11e6-bd58-64006a7986d3'
$Elevate = 'run it from an elevated prompt (Run as administrator)'

# The port a template GUID stands for, or $null for any other GUID.
function Get-TemplatePort([string] $Id) {
    if ($Id -match "^([0-9a-fA-F]{8})$TemplateSuffix`$") {
        return [Convert]::ToUInt32($Matches[1], 16)
    }
    return $null
}

function Open-LocalMachine {
    return [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine,
        [Microsoft.Win32.RegistryView]::Registry64)
}

function Show-Registered {
    $hklm = Open-LocalMachine
    $services = $hklm.OpenSubKey($ServicesPath)
    if ($null -eq $services -or $services.SubKeyCount -eq 0) {
        Write-Output 'no service GUID is registered on this host'
        return
    }
    foreach ($id in $services.GetSubKeyNames()) {
        $key = $services.OpenSubKey($id)
        [pscustomobject]@{
            Guid = $id
            Port = Get-TemplatePort $id
            Name = if ($null -ne $key) { $key.GetValue('ElementName') } else { $null }
        }
    }
}

function Write-Failure([string] $Message) {
    $Host.UI.WriteErrorLine("register-hvsock-service: $Message")
}

if ($PSCmdlet.ParameterSetName -eq 'List') {
    Show-Registered
    exit 0
}

if ($PSCmdlet.ParameterSetName -eq 'Port') {
    $id = ('{0:x8}' -f $Port) + $TemplateSuffix
    $note = " (port $Port)"
    $default = "hvrelay port $Port"
} else {
    # [guid] accepts braces and capitals; the key is the bare lower-case form.
    $id = $Guid.ToString('D')
    $note = ''
    $default = "hvrelay $id"
}
if ($Remove -and $PSBoundParameters.ContainsKey('Name')) {
    Write-Failure '-Name goes with registering, not with -Remove'
    exit 2
}

$path = "$ServicesPath\$id"
try {
    $hklm = Open-LocalMachine
    $exists = $null -ne $hklm.OpenSubKey($path)
    if ($Remove) {
        if (-not $exists) {
            Write-Failure "$id$note is not registered (-List shows what is)"
            exit 1
        }
        if ($PSCmdlet.ShouldProcess("HKLM:\$path", 'remove')) {
            $hklm.DeleteSubKey($path)
            Write-Output "removed $id$note"
        }
        exit 0
    }
    $label = if ($PSBoundParameters.ContainsKey('Name')) { $Name } else { $default }
    if ($PSCmdlet.ShouldProcess("HKLM:\$path", "set ElementName to '$label'")) {
        # CreateSubKey also makes GuestCommunicationServices on a host
        # where Hyper-V has not made it yet.
        $key = $hklm.CreateSubKey($path)
        $key.SetValue('ElementName', $label, [Microsoft.Win32.RegistryValueKind]::String)
        $key.Close()
        $verb = if ($exists) { 'updated' } else { 'registered' }
        Write-Output "$verb $id$note as `"$label`""
    }
    exit 0
} catch [System.UnauthorizedAccessException], [System.Security.SecurityException] {
    Write-Failure "${id}: access denied: $Elevate"
    exit 1
}
