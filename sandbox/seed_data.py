"""Seed data of the sandbox as plain values: people, job types, assets, tickets, fallback KB."""

from __future__ import annotations

from typing import Any, NamedTuple

# (employee_number, company, site, email, first, last, phone, department, manager,
#  can_create_tickets, asset_edit, ismgr)
# fmt: off
USERS: list[tuple[Any, ...]] = [
    (7, 1, 5, "mike@acme.example", "Mike", "Chen", "+1-555-0107", "IT Manager", None, True, "Modify", True),
    (42, 1, 5, "jane@acme.example", "Jane", "Smith", "+1-555-0123", "Engineering", 7, True, "Read Only", False),
    (43, 1, 5, "priya@acme.example", "Priya", "Patel", "+1-555-0143", "Finance", 7, True, "Read Only", False),
    (57, 1, 6, "sam@acme.example", "Sam", "Rivera", "+1-555-0157", "Warehouse", 7, False, "None", False),
    (61, 1, 5, "olivia@acme.example", "Olivia", "Brooks", "+1-555-0161", "Sales", 7, True, "Read Only", False),
    (64, 1, 5, "raj@acme.example", "Raj", "Kumar", "+1-555-0164", "Engineering", 7, True, "Read Only", False),
    (100, 2, 10, "nora@globex.example", "Nora", "Kim", "+1-555-0200", "Operations Manager", None, True, "Modify", True),
    (101, 2, 10, "lee@globex.example", "Lee", "Park", "+1-555-0201", "Operations", 100, True, "Read Only", False),
    (102, 2, 10, "ben@globex.example", "Ben", "Ortiz", "+1-555-0202", "Logistics", 100, True, "Read Only", False),
    (103, 2, 10, "ana@globex.example", "Ana", "Silva", "+1-555-0203", "Marketing", 100, True, "Read Only", False),
]
# fmt: on

JOB_TYPES = [
    ("General", "Anything that fits no other category", False),
    ("Hardware", "Laptops, monitors, printers, phones and peripherals", False),
    ("Software", "Installing, updating or fixing applications", False),
    ("Network", "VPN, Wi-Fi, wired network and internet access", False),
    ("Email", "Outlook, mailboxes, calendars and spam", False),
    ("Account & Password", "Sign-in problems, password resets, MFA", False),
    ("Access Request", "Access to systems, shares or groups (needs manager approval)", True),
    ("Hardware Request", "New or replacement equipment (needs manager approval)", True),
    ("Software Request", "New software or licenses (needs manager approval)", True),
]

# (asset_id, company, machine_name, type, status, serial, manufacturer, model, owner, site)
# fmt: off
ASSETS: list[tuple[Any, ...]] = [
    (200, 1, "HP LaserJet Pro", "printer", "in_use", "VNB3K12345", "HP", "LaserJet Pro M404dn", None, 5),
    (201, 1, "ACME-LT-042", "laptop", "in_use", "5CG2041XYZ", "Dell", "Latitude 7440", 42, 5),
    (202, 1, "ACME-MON-042", "monitor", "in_use", "CN0U2723QE", "Dell", "U2723QE", 42, 5),
    (203, 1, "ACME-LT-007", "laptop", "in_use", "C02FK1ABCD", "Apple", "MacBook Pro 14", 7, 5),
    (204, 1, "ACME-PH-007", "phone", "in_use", "F2LXK9ABCD", "Apple", "iPhone 15", 7, 5),
    (205, 1, "ACME-LT-043", "laptop", "in_use", "5CG2041ABC", "Dell", "Latitude 5440", 43, 5),
    (206, 1, "ACME-HH-057", "handheld", "repair", "S20123456", "Zebra", "TC52", 57, 6),
    (207, 1, "Zebra ZD421 Label Printer", "printer", "in_use", "D4J221800", "Zebra", "ZD421", None, 6),
    (208, 1, "ACME-LT-061", "laptop", "in_use", "PF3ABCD1", "Lenovo", "ThinkPad T14", 61, 5),
    (209, 1, "ACME-PH-061", "phone", "in_use", "F2LXK9EFGH", "Apple", "iPhone 14", 61, 5),
    (210, 1, "ACME-LT-064", "laptop", "in_use", "PF3ABCD2", "Lenovo", "ThinkPad X1 Carbon", 64, 5),
    (211, 1, "ACME-MON-064", "monitor", "in_use", "CN0P2723DE", "Dell", "P2723DE", 64, 5),
    (212, 1, "ACME-LT-SPARE1", "laptop", "in_stock", "5CG2041SP1", "Dell", "Latitude 7440", None, 5),
    (213, 1, "ACME-LT-OLD9", "laptop", "retired", "5CG1700OLD", "Dell", "Latitude 7480", None, 5),
    (220, 2, "GLX-LT-101", "laptop", "in_use", "PF4GLX101", "Lenovo", "ThinkPad T14s", 101, 10),
    (221, 2, "GLX-MON-101", "monitor", "in_use", "CN0GLX101", "Dell", "P2422H", 101, 10),
    (222, 2, "GLX-LT-100", "laptop", "in_use", "C02GLX100", "Apple", "MacBook Air 13", 100, 10),
    (223, 2, "GLX-PH-100", "phone", "in_use", "F2GLX100", "Apple", "iPhone 15", 100, 10),
    (224, 2, "GLX-LT-102", "laptop", "in_use", "PF4GLX102", "Lenovo", "ThinkPad E14", 102, 10),
    (225, 2, "Brother HL-L6200", "printer", "in_use", "E78GLX0001", "Brother", "HL-L6200DW", None, 10),
    (226, 2, "GLX-LT-103", "laptop", "in_use", "C02GLX103", "Apple", "MacBook Pro 14", 103, 10),
]
# fmt: on

FALLBACK_ARTICLES: list[dict[str, Any]] = [
    {
        "title": "VPN keeps disconnecting",
        "category": "Network",
        "tags": ["vpn", "remote"],
        "summary": "Fix VPN drops: update the client, switch to TCP, avoid captive Wi-Fi.",
        "body": "# VPN keeps disconnecting\n\n1. Update the VPN client.\n2. Switch the protocol to TCP.\n",
    },
    {
        "title": "Connect to office Wi-Fi",
        "category": "Network",
        "tags": ["wifi", "wireless"],
        "summary": "Join the corporate Wi-Fi with your work account.",
        "body": "Choose the *Corp* network and sign in with your work email.",
    },
    {
        "title": "Reset your password",
        "category": "Account & Password",
        "tags": ["password"],
        "summary": "Use the self-service portal to reset a forgotten password.",
        "body": "Go to the password portal and follow the steps.",
    },
    {
        "title": "Printer shows offline",
        "category": "Hardware",
        "tags": ["printer"],
        "summary": "Bring an offline printer back: power cycle, check the cable, re-add the queue.",
        "body": "- Power cycle the printer\n- Check the network cable\n- Re-add the print queue",
    },
]


class SeedComment(NamedTuple):
    author: str  # a technician's name, or "requester"
    text: str
    internal: bool = False


class SeedTicket(NamedTuple):
    requester: str  # email
    subject: str
    description: str
    status: str
    priority: int
    job_type: str
    tech: int | None
    comments: tuple[SeedComment, ...] = ()
    approval: str | None = None  # "pending" | "approved" | "rejected"
    asset: str | None = None  # machine_name


C = SeedComment
T = SeedTicket
J, M, S, P = "jane@acme.example", "mike@acme.example", "sam@acme.example", "priya@acme.example"
OL, R = "olivia@acme.example", "raj@acme.example"
L, N = "lee@globex.example", "nora@globex.example"
B, A = "ben@globex.example", "ana@globex.example"

# fmt: off
ACME_TICKETS: list[SeedTicket] = [
    T(P, "Outlook keeps asking for password", "Since the update yesterday Outlook prompts for my password every few minutes.", "closed", 3, "Email", 5,
      (C("Mike Tech", "Cleared the cached credentials in Credential Manager and re-signed in. Please confirm it stays quiet."), C("requester", "All good now, thanks!"))),
    T(S, "Scanner at loading dock not working", "The barcode scanner at dock 2 beeps but nothing shows up in the WMS.", "closed", 2, "Hardware", 6,
      (C("Dana Support", "The USB hub was faulty; replaced it."), C("Dana Support", "Hub from spare stock, asset tag not needed.", True))),
    T(J, "Request access to GitHub organization", "I need access to the acme-platform GitHub organization for the new service.", "closed", 4, "Access Request", 5,
      (C("Mike Tech", "Invitation sent to your work email."),),
      "approved"),
    T(M, "Conference room display flickers", "The TV in the Harbor room flickers when a laptop is connected over HDMI.", "closed", 4, "Hardware", 6,
      (C("Dana Support", "Swapped the HDMI cable for a certified one; no more flicker."),)),
    T(OL, "Salesforce login fails", "Salesforce says my account is locked.", "closed", 2, "Account & Password", 5,
      (C("Mike Tech", "Unlocked in the Salesforce admin console. Too many attempts from an old phone."),)),
    T(R, "Docker Desktop license", "Docker Desktop asks for a paid subscription on my laptop.", "closed", 3, "Software", 5,
      (C("Mike Tech", "Assigned you a seat in the company Docker subscription. Sign in with SSO."), C("Mike Tech", "Seat count now 14 of 15.", True))),
    T(J, "Laptop battery drains quickly", "My laptop battery goes from 100% to 20% in about two hours.", "closed", 3, "Hardware", 6,
      (C("Dana Support", "Battery health was at 61%. Replaced the battery under warranty."),),
      None, "ACME-LT-042"),
    T(P, "Excel crashes opening large workbook", "Excel closes without an error when I open the Q3 forecast workbook.", "closed", 3, "Software", 5,
      (C("Mike Tech", "Switched Office to the 64-bit build; the workbook opens fine now."),)),
    T(S, "Handheld scanner won't charge", "The Zebra handheld does not charge in its cradle.", "in_progress", 3, "Hardware", 6,
      (C("Dana Support", "Ordered a replacement cradle, expected Thursday."), C("Dana Support", "PO 88123 raised with the vendor.", True))),
    T(OL, "Shared mailbox missing", "The sales@ shared mailbox disappeared from Outlook.", "closed", 3, "Email", 5,
      (C("Mike Tech", "Re-added your full access permission; it can take an hour to show up."),)),
    T(R, "Wi-Fi slow in meeting room 3", "Video calls drop in meeting room 3 on the second floor.", "on_hold", 3, "Network", 6,
      (C("Dana Support", "We're waiting for the access point replacement to arrive."), C("Dana Support", "AP-2F-03 shows CRC errors; RMA opened.", True))),
    T(J, "VPN drops", "The VPN disconnects every 10-15 minutes when I work from home.", "open", 2, "Network", None,
      (C("requester", "It happens on both my home Wi-Fi and my phone hotspot."),)),
    T(M, "Set up new starter account: Chris Lane", "Chris Lane starts Monday in Engineering. Needs laptop, email and Slack.", "in_progress", 2, "Account & Password", 5,
      (C("Mike Tech", "Accounts created; laptop imaging in progress."),)),
    T(P, "Can't access finance share", "I get 'access denied' on \\\\fs01\\finance since this morning.", "open", 2, "Access Request", 6,
      (C("Dana Support", "Looking at the group membership now."),),
      "approved"),
    T(S, "Password reset for warehouse terminal", "Forgot my password for the warehouse terminal.", "closed", 2, "Account & Password", 6,
      (C("Dana Support", "Password reset and handed over in person."),)),
    T(J, "Teams camera not detected", "Teams says no camera found, although the camera works in other apps.", "on_hold", 3, "Hardware", 5,
      (C("Mike Tech", "Can you try with the Teams web app and tell us if the camera works there?"), C("Mike Tech", "Likely the Teams privacy setting; waiting for user.", True))),
    T(OL, "Phone not syncing email", "My iPhone stopped syncing work email after the iOS update.", "in_progress", 3, "Email", 5,
      (C("Mike Tech", "Please remove and re-add the account from the Company Portal app."),)),
    T(J, "Printer not working", "The main office printer shows offline and my print jobs stay in the queue.", "open", 3, "Hardware", 5,
      (C("Mike Tech", "I've checked the network cable and it is plugged in. Next I'll look at the printer's IP settings."), C("Mike Tech", "Printer got a new DHCP lease; the print server still points at the old IP.", True)),
      None, "HP LaserJet Pro"),
    T(R, "MFA app lost after phone upgrade", "New phone, Authenticator app has no accounts.", "closed", 1, "Account & Password", 6,
      (C("Dana Support", "Verified identity by video call and reset MFA registration."),)),
    T(P, "Invoice PDF printing garbled", "Invoices printed from the ERP come out with random characters.", "open", 3, "Hardware", None,),
    T(M, "Budget for monitor refresh", "Please send a quote for replacing 12 monitors in Engineering.", "on_hold", 5, "General", 5,
      (C("Mike Tech", "Waiting for the vendor quote."),)),
    T(S, "Label printer out of alignment", "Shipping labels print half off the label.", "open", 3, "Hardware", 6,
      (),
      None, "Zebra ZD421 Label Printer"),
    T(OL, "Zoom add-in missing from Outlook", "The Zoom button disappeared from Outlook.", "closed", 4, "Software", 5,
      (C("Mike Tech", "Re-enabled the add-in under File > Options > Add-ins."),)),
    T(J, "Slack notifications delayed", "Slack desktop notifications arrive several minutes late.", "in_progress", 4, "Software", 6,
      (C("Dana Support", "Please update Slack to the latest version; we're checking Focus Assist settings."),)),
    T(R, "Request second monitor", "I'd like a second 27\" monitor for code reviews.", "in_progress", 4, "Hardware Request", 6,
      (C("Dana Support", "Approved by your manager; monitor reserved from stock."),),
      "approved"),
    T(P, "Phishing email reported", "Got an email asking me to confirm my payroll details. Looks fake.", "closed", 2, "Email", 5,
      (C("Mike Tech", "Thanks for reporting! It was phishing; blocked the sender domain for everyone."), C("Mike Tech", "Purged 37 copies via content search.", True))),
    T(S, "Warehouse Wi-Fi dead spot aisle 7", "Handhelds lose Wi-Fi in aisle 7 at Riverside.", "in_progress", 3, "Network", 6,
      (C("Dana Support", "Site survey booked for next week."),)),
    T(M, "Renew SSL certificate for intranet", "The intranet certificate expires in 3 weeks.", "open", 2, "General", 5,),
    T(J, "New laptop request", "My laptop is 5 years old and cannot run the new build tools. Requesting a replacement.", "open", 3, "Hardware Request", None,
      (),
      "pending"),
    T(P, "Adobe Acrobat Pro license", "I need Acrobat Pro to edit and sign vendor contracts.", "open", 4, "Software Request", None,
      (),
      "pending"),
    T(OL, "Keyboard keys sticking", "The E and R keys on my laptop keyboard stick.", "open", 4, "Hardware", None,),
    T(R, "Access to production database", "Read access to the production orders database for debugging.", "closed", 3, "Access Request", 5,
      (C("Mike Chen", "Rejected: please use the read replica instead."),),
      "rejected"),
]

GLOBEX_TICKETS: list[SeedTicket] = [
    T(L, "Cannot log in to ERP", "The ERP says my session expired immediately after login.", "closed", 2, "Account & Password", 8,
      (C("Omar Reyes", "Cleared your stale ERP sessions. Please try again."),)),
    T(B, "Forklift tablet cracked screen", "The tablet on forklift 3 has a cracked screen.", "closed", 3, "Hardware", 9,
      (C("Kim Lau", "Replaced with a spare tablet."), C("Kim Lau", "Damaged unit sent for insurance claim.", True))),
    T(A, "Outlook calendar not updating", "Meeting invites don't show in my calendar.", "closed", 3, "Email", 8,
      (C("Omar Reyes", "Repaired the Outlook profile."),)),
    T(N, "Quarterly access review", "Please export the list of users with admin rights for the Q2 review.", "closed", 4, "General", 8,
      (C("Omar Reyes", "Export attached to your email."),)),
    T(L, "VPN certificate expired", "VPN client says the certificate expired.", "closed", 2, "Network", 9,
      (C("Kim Lau", "Re-issued your VPN certificate through the Company Portal."),)),
    T(B, "Request Visio license", "Need Visio to update the warehouse floor plans.", "closed", 4, "Software Request", 8,
      (C("Omar Reyes", "License assigned."),),
      "approved"),
    T(A, "Password expired while on leave", "My password expired while I was on leave.", "closed", 2, "Account & Password", 9,
      (C("Kim Lau", "Reset after identity check; please choose a new passphrase."),)),
    T(L, "Second monitor not detected", "My docking station does not detect the second monitor.", "closed", 3, "Hardware", 8,
      (C("Omar Reyes", "Updated the dock firmware; both monitors work."),)),
    T(N, "Teams meeting recordings missing", "Recordings from last week's meetings are not in the chat.", "in_progress", 3, "Software", 9,
      (C("Kim Lau", "Checking the OneDrive storage policy."), C("Kim Lau", "Retention policy deleted them after 7 days; raising with tenant admin.", True))),
    T(B, "Wi-Fi drops in warehouse office", "Laptop drops Wi-Fi every hour in the warehouse office.", "on_hold", 3, "Network", 8,
      (C("Omar Reyes", "Waiting for an electrician to move the access point."),)),
    T(A, "Shared drive quota full", "The marketing share says it's full.", "closed", 2, "General", 9,
      (C("Kim Lau", "Increased the quota to 500 GB."),)),
    T(L, "Phishing simulation question", "Was the 'parcel delivery' email this morning a test?", "closed", 5, "Email", 8,
      (C("Omar Reyes", "Yes, it was part of the awareness programme. Well spotted!"),)),
    T(N, "Onboard new hire: Sofia Marin", "Sofia joins Operations on the 1st; needs laptop and accounts.", "in_progress", 2, "Account & Password", 8,
      (C("Omar Reyes", "Accounts ready; laptop shipping tomorrow."),)),
    T(B, "Badge reader at dock door", "The badge reader at dock door B doesn't open the door.", "open", 2, "Hardware", 9,),
    T(A, "Excel add-in for reporting", "Please install the Power BI Excel add-in.", "closed", 4, "Software", 8,
      (C("Omar Reyes", "Deployed through Intune."),)),
    T(L, "Laptop fan very loud", "My laptop fan is loud even when idle.", "in_progress", 4, "Hardware", 9,
      (C("Kim Lau", "Please bring it to the IT desk on Thursday for cleaning."),),
      None, "GLX-LT-101"),
    T(N, "Email delivery delays", "External emails arrive up to an hour late.", "open", 1, "Email", 8,
      (C("Omar Reyes", "Linked to the current mail provider incident."), C("Omar Reyes", "Provider ticket 55-7781.", True))),
    T(B, "Request new handheld scanner", "We need one more handheld scanner for the night shift.", "open", 3, "Hardware Request", None,
      (),
      "pending"),
    T(A, "Slack channel access", "Please add me to #marketing-leads.", "closed", 5, "Access Request", 9,
      (C("Kim Lau", "Added."),),
      "approved"),
    T(L, "Printer jams on tray 2", "The HQ printer jams every time it uses tray 2.", "open", 3, "Hardware", 9,
      (),
      None, "Brother HL-L6200"),
    T(N, "Renew domain globex-shop.example", "The shop domain renews next month.", "on_hold", 4, "General", 8,
      (C("Omar Reyes", "Waiting for finance to approve the renewal invoice."),)),
    T(B, "MFA prompts every login", "I get an MFA prompt every single time I log in.", "closed", 3, "Account & Password", 8,
      (C("Omar Reyes", "Enabled 'remember this device' for trusted devices."),)),
    T(A, "Screen sharing blurry in Teams", "Others see my shared screen blurry.", "closed", 4, "Software", 9,
      (C("Kim Lau", "Set display scaling to 100% on the external monitor."),)),
    T(L, "Access to logistics dashboard", "I need read access to the logistics Power BI dashboard.", "in_progress", 3, "Access Request", 8,
      (C("Omar Reyes", "Requested from the dashboard owner."),),
      "approved"),
    T(N, "Conference phone no dial tone", "The Poly phone in the board room has no dial tone.", "open", 3, "Hardware", 9,),
    T(B, "Backup of warehouse PC", "Please confirm the warehouse PC is backed up.", "closed", 4, "General", 8,
      (C("Omar Reyes", "Confirmed: nightly backups succeed."),)),
    T(A, "Spam filter blocks partner emails", "Emails from our agency partner land in quarantine.", "in_progress", 2, "Email", 8,
      (C("Omar Reyes", "Added the partner's domain to the allow list; monitoring."),)),
    T(L, "Keyboard replacement", "Several keys don't work on my keyboard.", "closed", 5, "Hardware", 9,
      (C("Kim Lau", "New keyboard on your desk."),)),
    T(N, "Guest Wi-Fi password", "What's this month's guest Wi-Fi password?", "closed", 5, "Network", 9,
      (C("Kim Lau", "Sent by SMS to your phone."),)),
    T(B, "Install label software", "Need ZebraDesigner installed on the shipping PC.", "open", 4, "Software", None,),
    T(L, "Outlook search not working", "Outlook search returns no results for recent emails.", "open", 3, "Email", None,),
]
# fmt: on
