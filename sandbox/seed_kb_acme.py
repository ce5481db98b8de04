"""Knowledge-base articles the sandbox seeds for Acme Corp."""

from sandbox.seed_kb_types import SeedArticle

ACME_ARTICLES: list[SeedArticle] = [
    {
        "title": "Install GlobalProtect and connect to the Acme VPN",
        "category": "Network & VPN",
        "tags": ["vpn", "globalprotect", "remote", "install", "connect", "work from home"],
        "summary": "How to install the GlobalProtect client and connect to vpn.acme.example from outside the office.",
        "body": """You need the VPN to reach file shares, internal sites and office PCs when you are not at the Main Office or Riverside Warehouse.

## Install the client

1. On a company laptop, GlobalProtect is normally already installed. Look for the globe icon in the Windows system tray or the macOS menu bar.
2. If it is missing, open **Company Portal** (Windows) or **Self Service** (Mac), search for "GlobalProtect" and click **Install**. No admin rights are needed.
3. Restart the laptop once the install finishes.

## Connect

1. Click the GlobalProtect icon and enter the portal address `vpn.acme.example` if asked.
2. Click **Connect**. An Okta sign-in window opens.
3. Sign in with your Acme email address and password, then approve the Okta Verify push on your phone.
4. The icon shows a shield and the status reads **Connected**. You can now open internal resources.

## Check it works

- Open https://helpdesk.acme.example and an internal share such as the department drive.
- If the client says "Portal not found", check the address is spelled exactly `vpn.acme.example` and that you have normal internet access first (try any public website).

## When to open a ticket

Open a ticket with job type **Network** if:

- the client will not install from Company Portal or Self Service,
- you see "Authentication failed" after a correct Okta sign-in,
- you are connected but cannot reach a specific internal system.

Include your laptop name, the exact error text and the time you tried. Personal devices are not supported on the VPN; use Outlook and Teams on the web instead.
""",
    },
    {
        "title": "VPN keeps disconnecting or is very slow",
        "category": "Network & VPN",
        "tags": ["vpn", "globalprotect", "disconnect", "drops", "slow", "remote"],
        "summary": "Steps to fix a GlobalProtect connection that drops, reconnects repeatedly or runs slowly.",
        "body": """Most VPN drops are caused by the home or hotel network rather than the VPN itself. Work through these checks in order.

## Quick checks

1. **Test your internet without the VPN.** Disconnect GlobalProtect and load a few websites or run a speed test. If the internet itself is unstable, the VPN will be too.
2. **Move closer to your router or use a cable.** Weak Wi-Fi is the most common cause of drops. A wired connection almost always fixes it.
3. **Turn off other VPNs or proxies.** Personal VPN apps, some antivirus "secure browsing" features and hotel captive portals interfere with GlobalProtect.
4. **Check the portal address.** Open GlobalProtect settings and confirm the portal is `vpn.acme.example`.

## Reset the connection

1. Click the GlobalProtect icon, then **Disconnect**.
2. Open the menu (three lines or gear icon) and choose **Refresh Connection**.
3. Restart the laptop, connect to the internet first, then connect the VPN again.
4. If you are on a hotel or airport network, open a browser and accept the network's terms page before connecting.

## Sleep and lid closing

The VPN session ends when the laptop sleeps. After opening the lid, wait for Wi-Fi to reconnect, then reconnect the VPN and approve the Okta Verify prompt.

## Session limits

Sessions are reauthenticated every 12 hours. A prompt to sign in again once a day is expected, not a fault.

## When to open a ticket

Open a **Network** ticket if drops continue on a stable wired connection, or if several people report drops at the same time. Include:

- the times the drops happened,
- your location and type of internet (home broadband, mobile hotspot, hotel),
- a screenshot of the GlobalProtect **Troubleshooting** tab, if you can.
""",
    },
    {
        "title": "Connect to the Acme-Corp Wi-Fi network",
        "category": "Network & VPN",
        "tags": ["wifi", "wi-fi", "wireless", "acme-corp", "acme-guest", "connect", "802.1x"],
        "summary": "How staff connect to the Acme-Corp wireless network and how visitors use Acme-Guest.",
        "body": """Both the Main Office and Riverside Warehouse broadcast two networks:

- **Acme-Corp** – for staff and company devices. Gives access to internal systems.
- **Acme-Guest** – for visitors and personal devices. Internet only.

## Company laptops

Company laptops join **Acme-Corp** automatically. If yours does not:

1. Open the Wi-Fi menu and select **Acme-Corp**.
2. When asked for a username, enter your full Acme email address (for example `jane.doe@acme.example`) and your normal Acme password.
3. If a certificate prompt appears, check it names `radius.acme.example`, then click **Connect** or **Trust**.
4. Wait up to 30 seconds for the connection to complete.

## Phones and tablets

1. Select **Acme-Corp** in Wi-Fi settings.
2. Set EAP method to **PEAP** and phase-2 authentication to **MSCHAPV2** if asked.
3. For CA certificate choose **Use system certificates** and set domain to `acme.example`.
4. Enter your Acme email and password.

## Visitors

1. Connect to **Acme-Guest**.
2. A sign-in page opens. Enter the visitor's name and email and accept the terms.
3. Access lasts 24 hours. Reception can print a guest code if the page does not open.

## After a password change

Your devices keep trying the old password and may lock your account. After changing your password, select **Forget this network** for Acme-Corp on every phone and tablet, then join again with the new password.

## When to open a ticket

Open a **Network** ticket if you cannot join Acme-Corp with a password that works for Okta, or if a whole area of a building has no signal. Say which site, floor and room you are in.
""",
    },
    {
        "title": "Wi-Fi is slow, drops or says 'no internet'",
        "category": "Network & VPN",
        "tags": ["wifi", "wi-fi", "slow", "no internet", "drops", "troubleshooting", "wireless"],
        "summary": "What to check when the office Wi-Fi is slow, keeps dropping or connects without internet access.",
        "body": """Use this article when you are connected to office Wi-Fi but it is not working properly.

## First checks

1. **Is it just you?** Ask a colleague nearby. If nobody has internet, see "What to do during an outage" and report it as one ticket.
2. **Check which network you joined.** Staff must use **Acme-Corp**. **Acme-Guest** cannot reach internal systems such as file shares or printers.
3. **Turn Wi-Fi off and on.** Toggle Wi-Fi in the system menu, or switch Airplane mode on for ten seconds and off again.
4. **Forget and rejoin.** Choose **Forget this network** for Acme-Corp and connect again with your Acme email and password.

## If it is still slow or dropping

1. Move somewhere with a clearer line to the ceiling access points; meeting rooms with glass walls and the warehouse racking areas have weaker coverage.
2. Close large uploads or cloud backups that may be saturating your connection.
3. Restart the laptop. On Windows, also run **Settings > Network & internet > Advanced network settings > Network reset** if the problem continues after a restart.
4. Try a wired dock or network cable at your desk if one is available.

## "Connected, no internet"

- Disconnect the VPN if it is running; you do not need it inside the office.
- If the Wi-Fi icon shows a yellow warning, forget the network and rejoin.
- If the message persists on more than one device, it is probably a network fault.

## When to open a ticket

Open a **Network** ticket and include:

- the site (Main Office or Riverside Warehouse), floor and nearest room,
- the time it happened and how long it lasted,
- whether other people nearby are affected.
""",
    },
    {
        "title": "Add an office printer (PaperCut Follow-Me)",
        "category": "Printing",
        "tags": ["printer", "print", "papercut", "follow-me", "add printer", "hp"],
        "summary": "How to add the Follow-Me print queue and release your print jobs at any HP printer.",
        "body": """Acme uses a single print queue called **Follow-Me**. You print to it from your laptop, then release the job at any HP LaserJet printer at the Main Office or Riverside Warehouse.

## Add the Follow-Me queue on Windows

1. Make sure you are on the **Acme-Corp** Wi-Fi or the VPN.
2. Open **Company Portal**, search for "Follow-Me Printing" and click **Install**.
3. When it finishes, open any document, choose **Print** and pick **Follow-Me** from the printer list.

## Add it on a Mac

1. Open **Self Service** and install **Follow-Me Printing**.
2. In **System Settings > Printers & Scanners**, confirm **Follow-Me** appears.
3. The first time you print, enter your Acme email and password when asked and tick **Remember this password**.

## Release a print job

1. Walk to any HP printer with a PaperCut card reader.
2. Tap your Acme badge on the reader, or type your username and PIN on the screen.
3. Select your job and press **Print**, or **Print All**.
4. Jobs that are not released within 24 hours are deleted automatically.

## Set up your badge the first time

The first tap of an unknown badge asks you to sign in with your Acme username and password. After that, the badge is linked to your account.

## Tips

- Colour and double-sided options are set in the print dialog before you print.
- Print jobs from personal devices are not supported.

## When to open a ticket

Open a **Hardware** ticket, naming the printer location, if the Follow-Me queue will not install or your badge is not recognised after linking it.
""",
    },
    {
        "title": "Printer is offline, jammed or my job does not appear",
        "category": "Printing",
        "tags": ["printer", "offline", "paper jam", "jam", "papercut", "not printing", "toner"],
        "summary": "How to clear paper jams and what to check when a printer is offline or your job is missing from the release screen.",
        "body": """Because every printer uses the Follow-Me queue, you can usually just walk to another printer while a broken one is fixed.

## My job is not on the release screen

1. Check you printed to **Follow-Me**, not to "Microsoft Print to PDF" or an old printer name.
2. Make sure you were on **Acme-Corp** Wi-Fi or the VPN when you pressed Print. Jobs sent from Acme-Guest never arrive.
3. Open the PaperCut tray icon or https://print.acme.example to see whether the job is listed or was rejected.
4. Wait one minute and tap your badge again; large PDFs take time to spool.

## The printer says "Offline" or shows an error

1. Look at the printer's front panel. Note any error code shown.
2. If the screen is dark, check the power cable and press the power button once.
3. If it shows an error, switch it off, wait 30 seconds and switch it on. Wait for the ready screen before tapping your badge.
4. Release your job at another printer in the meantime.

## Clearing a paper jam

1. Follow the animation on the printer screen; it shows which door to open.
2. Open the indicated door or tray and pull the paper out slowly with both hands, in the direction of the paper path.
3. Never use tools or force. Some parts inside are hot.
4. Close all doors firmly. The printer resumes on its own.

## Toner and paper

Spare paper is kept in the cupboard beside each printer. Toner is replaced by Harbor IT; a "toner low" message can be ignored until the printer stops.

## When to open a ticket

Open a **Hardware** ticket if a printer stays offline after a restart, a jam keeps coming back, or toner is empty. Include the printer's location and the asset tag on its front.
""",
    },
    {
        "title": "Set up Okta Verify for multi-factor authentication",
        "category": "Security",
        "tags": ["mfa", "okta", "okta verify", "2fa", "enroll", "authenticator", "setup"],
        "summary": "How to enroll your phone in Okta Verify so you can approve sign-ins to Acme applications.",
        "body": """Every Acme account must use multi-factor authentication (MFA). Acme uses **Okta Verify** on your phone to confirm it is really you when you sign in.

## Before you start

- Have your laptop and your phone with you.
- Your phone should be running a supported version of iOS or Android with a screen lock enabled.

## Enroll

1. On your phone, install **Okta Verify** from the App Store or Google Play. It is free and published by Okta, Inc.
2. On your laptop, go to https://login.acme.example and sign in with your Acme email and password.
3. You will be asked to set up security methods. Choose **Okta Verify** and click **Set up**.
4. A QR code appears. In Okta Verify on the phone, tap **Add account**, choose **Organization** and scan the code.
5. Allow notifications when the app asks; without them, push prompts will not arrive.
6. Turn on **Face ID / fingerprint** in the app if offered. It makes approvals faster.
7. Back on the laptop, click **Done**. You will be asked to approve a test push.

## Add a backup method

1. In the Okta dashboard, open your name menu and choose **Settings**.
2. Under **Security Methods**, add **Phone** (SMS) as a backup in case your main phone is unavailable.

## Using it

- When you sign in, approve the push notification on your phone, or type the 6-digit code shown in the app.
- Only approve prompts you started yourself. If you get a prompt you did not expect, tap **No, it's not me** and report it (see "Report a phishing email or suspicious sign-in").

## When to open a ticket

Open an **Account & Password** ticket if the QR code will not scan or the setup page does not offer Okta Verify.
""",
    },
    {
        "title": "Lost or replaced phone: reset Okta Verify MFA",
        "category": "Security",
        "tags": ["mfa", "okta verify", "lost phone", "new phone", "reset", "2fa", "stolen"],
        "summary": "What to do when you get a new phone or lose the phone that holds Okta Verify.",
        "body": """If Okta Verify is on a phone you no longer have, you cannot approve sign-ins. How you fix it depends on whether you still have the old phone.

## New phone, old phone still working

1. On your laptop, sign in at https://login.acme.example using the old phone to approve.
2. Open your name menu, choose **Settings**, then **Security Methods**.
3. Next to Okta Verify, click **Set up another** and scan the QR code with Okta Verify on the new phone.
4. Approve a test sign-in from the new phone.
5. Remove the old phone's entry from the list, then delete the app from the old phone.

## Phone lost, stolen or wiped

1. If you set up SMS as a backup, choose **Phone** on the sign-in screen and use the texted code. Then add Okta Verify on your new phone as above and remove the old entry.
2. If you have no backup method, call the helpdesk or open an **Account & Password** ticket from a colleague's computer or https://helpdesk.acme.example.
3. The helpdesk will verify your identity. Expect to answer questions about your manager and start date, or to join a short video call with your photo ID.
4. Once verified, the helpdesk resets your MFA. Sign in again and you will be asked to enroll Okta Verify on the new phone.

## If the phone was stolen

- Say so in the ticket. The helpdesk will sign you out of all sessions and remove company email from the device.
- Report the theft to your manager as well.

## Important

The helpdesk will never ask you for your password or an Okta Verify code. Anyone who does is not Harbor IT.
""",
    },
    {
        "title": "Acme password policy explained",
        "category": "Accounts & Access",
        "tags": [
            "password",
            "policy",
            "passphrase",
            "expire",
            "rotation",
            "lockout",
            "requirements",
        ],
        "summary": "The rules for Acme passwords: at least 14 characters, no forced expiry, and lockout after 10 failed attempts.",
        "body": """Your Acme password protects email, files and every application you reach through Okta. These are the rules and the reasons for them.

## The rules

1. **At least 14 characters.** Length matters far more than complexity. A passphrase of four or five unrelated words is easy to remember and hard to guess.
2. **No forced rotation.** Your password does not expire on a schedule. You only have to change it if it may have been exposed, for example after a phishing click or a breach notice.
3. **Not a known-breached password.** Okta rejects passwords that appear in public breach lists, and common words such as "Acme" or the current season and year.
4. **Lockout after 10 failed attempts.** After ten wrong tries in a row, the account locks for 30 minutes to stop guessing attacks.
5. **No reuse.** Do not use your Acme password for any other site, and you cannot reuse your last 5 Acme passwords.

## Good practice

- Use a password manager to store other passwords; Acme provides one on request via a **Software Request** ticket.
- Never share your password, including with the helpdesk. Harbor IT will never ask for it.
- Do not write it on a sticky note or save it in a document.

## When you must change it

Change your password straight away (see "Reset your password with self-service") if:

- you typed it into a page you now think was fake,
- you received an Okta alert about a sign-in you did not make,
- someone else may have seen it.

## After changing it

Update the password on your phone's mail app and forget and rejoin the Acme-Corp Wi-Fi, or old saved passwords may lock your account.

Questions about the policy can go in a **General** ticket.
""",
    },
    {
        "title": "Reset your password with self-service",
        "category": "Accounts & Access",
        "tags": ["password", "forgot password", "reset", "self-service", "okta", "sspr"],
        "summary": "How to reset a forgotten Acme password yourself through Okta without calling the helpdesk.",
        "body": """You can reset your own password at any time, day or night, as long as you have Okta Verify or a backup phone number set up.

## Reset a forgotten password

1. Go to https://login.acme.example on any computer or phone.
2. Click **Forgot password?** under the sign-in box.
3. Enter your Acme email address and choose how to verify: **Okta Verify** push or an **SMS** code.
4. Approve the push or type the code.
5. Enter a new password of at least 14 characters. A short passphrase of unrelated words works well.
6. Click **Reset password**. You are signed in with the new password.

## Change a password you still know

1. Sign in at https://login.acme.example.
2. Open your name menu and choose **Settings**.
3. Under **Change Password**, enter the current password and the new one, then save.

## Afterwards

1. On Windows laptops, lock the screen and unlock with the new password while connected to the office network or VPN, so the laptop learns it.
2. On a Mac, if you are asked for your old keychain password, enter the old password once to update it.
3. Update the password in mail apps on your phone, or remove and add the account again.
4. Forget and rejoin the **Acme-Corp** Wi-Fi on phones and tablets.

## If it does not work

- "Reset not allowed" usually means you have no MFA method enrolled. See "Set up Okta Verify for multi-factor authentication".
- If your account is locked, wait 30 minutes or see "My account is locked out".
- Otherwise, open an **Account & Password** ticket from https://helpdesk.acme.example or a colleague's computer.
""",
    },
    {
        "title": "My account is locked out",
        "category": "Accounts & Access",
        "tags": ["locked", "lockout", "account locked", "password", "sign in", "okta"],
        "summary": "Why Acme accounts lock after 10 failed sign-ins, how to unlock yours, and how to stop it happening again.",
        "body": """Your account locks after **10 failed sign-in attempts in a row**. The lock lifts by itself after **30 minutes**.

## Unlock it now

1. Go to https://login.acme.example and click **Unlock account?** under the sign-in box.
2. Enter your Acme email and verify with Okta Verify or an SMS code.
3. Your account is unlocked straight away. If you have also forgotten your password, follow "Reset your password with self-service".

If you have no MFA method set up, wait 30 minutes or open an **Account & Password** ticket from a colleague's computer.

## Why it keeps locking

Repeated lockouts after a password change almost always come from a device still using the **old** password in the background. Check:

1. **Phone mail apps** – the Outlook or built-in mail app on your phone or tablet. Remove the account and add it again.
2. **Acme-Corp Wi-Fi** – on every phone, tablet and second laptop, choose **Forget this network** and rejoin.
3. **Mapped drives or saved credentials on Windows** – open **Credential Manager**, look under **Windows Credentials** and remove entries that mention `acme.example`.
4. **Old devices** – an old phone in a drawer that still connects to Wi-Fi can lock you out. Switch it off or remove the account.
5. **Scheduled tasks or scripts** that run under your account (engineering teams): update the stored password.

## If you did not cause the failed attempts

If you were not signing in when the lockout happened, someone may be trying to guess your password.

1. Do not unlock and carry on as normal.
2. Open an **Account & Password** ticket, say you suspect someone else, and mark it priority 2.
3. Change your password once the helpdesk confirms.

## When to open a ticket

Open an **Account & Password** ticket if lockouts continue after checking all devices above. The helpdesk can see which device and location the failed attempts come from.
""",
    },
    {
        "title": "Set up Acme email on your phone (Outlook mobile)",
        "category": "Email & Calendar",
        "tags": ["outlook", "email", "phone", "mobile", "iphone", "android", "mail setup"],
        "summary": "How to add your Acme Microsoft 365 mailbox and calendar to an iPhone or Android phone using the Outlook app.",
        "body": """Acme mail and calendar on phones must use the **Microsoft Outlook** app. The built-in iPhone Mail and Android Gmail apps are blocked for Acme accounts for security reasons.

## Set up

1. Install **Microsoft Outlook** from the App Store or Google Play.
2. Also install **Microsoft Authenticator** or **Company Portal** if the app asks; this is needed to protect company data and only takes a minute.
3. Open Outlook and tap **Add account**.
4. Enter your Acme email address, for example `jane.doe@acme.example`, and tap **Continue**.
5. You are sent to the Okta sign-in page. Enter your password and approve the Okta Verify prompt.
6. If asked to allow Acme to protect data in the app, tap **OK**. Acme can then remove company mail from the app if the phone is lost, but cannot see your personal photos, texts or other apps.
7. Set a PIN if the app asks. Company data in Outlook is protected by this PIN.

## Calendar and contacts

- Your calendar appears in the **Calendar** tab of the Outlook app.
- To see Acme meetings in the phone's own calendar, open Outlook settings, tap your account and switch on **Sync calendars**.

## Common problems

- **"Your organisation doesn't allow this app"** – you are using the built-in mail app. Use Outlook instead.
- **Keeps asking for password** – remove the account in Outlook and add it again after any password change.
- **No new mail** – check notifications are allowed for Outlook in phone settings and that Low Power Mode is off.

## When to open a ticket

Open an **Email** ticket if sign-in fails with a correct password, or if Outlook says your device does not meet requirements. Include your phone model and operating system version.
""",
    },
    {
        "title": "Mailbox full and shared mailboxes",
        "category": "Email & Calendar",
        "tags": [
            "mailbox full",
            "quota",
            "storage",
            "shared mailbox",
            "outlook",
            "archive",
            "email",
        ],
        "summary": "How to free up space when your Outlook mailbox is full, and how to get access to a shared mailbox.",
        "body": """Acme mailboxes have a 50 GB limit, plus an online archive. When you reach about 49 GB, Outlook warns you; at the limit you can no longer send mail.

## Free up space

1. In Outlook, open **File > Tools > Mailbox Cleanup** (Windows) or check the storage bar in Outlook on the web at https://mail.acme.example.
2. Empty **Deleted Items** and **Junk Email**. Deleted mail still counts until these folders are emptied.
3. Search for large messages: in the search box type `size:>10MB`, then delete or save the attachments to OneDrive and delete the emails.
4. Move old mail into **Online Archive**. Drag folders or select messages older than a year and move them; archived mail stays searchable.
5. Wait about 15 minutes for the size to update.

## Access a shared mailbox

Shared mailboxes, such as `accounts@acme.example` or `warehouse@acme.example`, let a team use one address.

1. Ask the mailbox owner (usually your manager) to approve your access.
2. Open an **Access Request** ticket naming the mailbox address and whether you need **read and manage** or **send as** rights. Add your manager's approval or ask them to reply on the ticket.
3. After access is granted, restart Outlook. The mailbox appears in the folder pane within about an hour.
4. To send from it, click **From** in a new message and choose the shared address. If **From** is hidden, enable it in the **Options** tab.

## Shared mailbox on your phone

In the Outlook app, tap **Add account > Add a shared mailbox** and enter its address.

## When to open a ticket

- Open an **Email** ticket if your mailbox stays full after cleanup, or if the archive is missing.
- Open an **Access Request** ticket for new shared mailbox access.
""",
    },
    {
        "title": "Share your calendar or open someone else's",
        "category": "Email & Calendar",
        "tags": [
            "calendar",
            "share calendar",
            "outlook",
            "delegate",
            "permissions",
            "availability",
        ],
        "summary": "How to share your Outlook calendar with colleagues, give an assistant delegate access, and open a shared calendar.",
        "body": """Everyone at Acme can see your free/busy times by default. Share more detail only with the people who need it.

## Share your calendar

1. In Outlook, open the **Calendar** view.
2. Right-click your calendar in the left pane and choose **Sharing Permissions** (Windows) or **Sharing and Permissions** (Mac). In Outlook on the web, click **Share** at the top.
3. Type the colleague's name and pick a permission level:
   - **Can view when I'm busy** – free/busy only.
   - **Can view titles and locations** – shows meeting names.
   - **Can view all details** – everything except private items.
   - **Can edit** – they can create and change your meetings.
4. Click **Share**. They receive an email with an **Accept** button.

## Give a delegate access

A delegate, such as an assistant, can accept meeting invites for you.

1. In the sharing window, choose **Delegate** as the permission.
2. Decide whether invites go to the delegate only or to both of you.
3. Mark personal appointments as **Private** so delegates cannot read them.

## Open a colleague's calendar

1. In the Calendar view, choose **Add Calendar > From Directory** (or **Open Shared Calendar**).
2. Search for the person and click **Add**.
3. Their calendar appears under **People's calendars**. Tick it to view it side by side with yours.

## Room and equipment calendars

Meeting rooms at the Main Office and Riverside Warehouse are booked by adding the room as an attendee. Use **Room Finder** in the scheduling window.

## When to open a ticket

Open an **Email** ticket if a shared calendar does not appear after 30 minutes or permissions will not save. For access to a restricted calendar, such as an executive's, open an **Access Request** ticket with the owner's approval.
""",
    },
    {
        "title": "Teams audio, video or screen sharing not working",
        "category": "Collaboration",
        "tags": [
            "teams",
            "microphone",
            "camera",
            "audio",
            "video",
            "headset",
            "screen share",
            "meeting",
        ],
        "summary": "How to fix microphone, speaker, camera and screen-sharing problems in Microsoft Teams meetings.",
        "body": """Most Teams meeting problems come from the wrong device being selected or from another app holding the camera or microphone.

## Before the meeting

1. In Teams, click the **three dots** next to your picture, then **Settings > Devices**.
2. Pick your headset or speaker under **Audio devices** and click **Make a test call**. Teams plays back your recording.
3. Under **Camera**, check the preview shows your picture.

## During a meeting

1. Click **More > Settings > Device settings** and confirm the correct microphone, speaker and camera are selected.
2. Check the mute button in Teams **and** any mute switch on your headset.
3. Unplug and reconnect USB headsets or webcams, preferably straight into the laptop rather than a dock.
4. For Bluetooth headsets, choose the **Headset** (hands-free) entry, not just **Headphones**, or the microphone will not work.

## Camera is black or "in use"

1. Close other apps that use the camera: Zoom, Webex, browser tabs with video.
2. On Dell Latitudes, check the privacy shutter above the screen is open and the camera key (F9 on many models) is not switched off.
3. On a Mac, open **System Settings > Privacy & Security > Camera** and **Microphone** and make sure **Microsoft Teams** is allowed.

## Screen sharing

- On a Mac, allow Teams under **Privacy & Security > Screen & System Audio Recording**, then quit and reopen Teams.
- Share a single window rather than the whole screen if others see a black screen.

## Poor quality or choppy calls

- Turn off your camera to save bandwidth.
- Use wired internet or move closer to the Wi-Fi access point.
- Quit and restart Teams, and install any pending updates.

## When to open a ticket

Open a **Software** ticket if problems continue after a restart. For a faulty headset or webcam, open a **Hardware** ticket.
""",
    },
    {
        "title": "Request access to Slack",
        "category": "Collaboration",
        "tags": ["slack", "access", "engineering", "channel", "request", "chat"],
        "summary": "Who can use Slack at Acme, how to request an account, and how to join channels once you have one.",
        "body": """Microsoft Teams is Acme's main chat and meeting tool. **Slack** is used by the engineering teams and by people who work closely with them, such as product managers.

## Who can have Slack

- Members of engineering teams get Slack automatically when they join.
- Anyone else needs approval from their manager and a stated business reason, for example "works with the platform team on releases".

## Request an account

1. Go to https://helpdesk.acme.example and open a new ticket.
2. Choose job type **Access Request**.
3. In the description, write:
   - that you need Slack,
   - which channels or teams you need to work with,
   - your manager's name.
4. Your manager receives an approval request by email. Remind them if it is urgent; nothing happens until they approve.
5. Once approved, the Slack app appears on your Okta dashboard, usually within one working day.

## First sign-in

1. Open https://login.acme.example and click the **Slack** tile, or open the Slack desktop app and enter the workspace name `acme-eng`.
2. Choose **Sign in with Okta**. Do not create a separate Slack password.
3. Install the Slack desktop app from **Company Portal** (Windows) or **Self Service** (Mac).

## Joining channels

- Public channels: click **Add channels > Browse channels** and join.
- Private channels: ask a member of the channel to invite you. The helpdesk cannot add you to private channels.

## Guests and contractors

External contractors get single-channel guest access only. Their Acme sponsor should open the **Access Request** ticket and give an end date.

## When to open a ticket

Open a **Software** ticket if the Slack tile is missing after approval or sign-in fails with an Okta error.
""",
    },
    {
        "title": "Request a new or replacement laptop",
        "category": "Hardware",
        "tags": [
            "laptop",
            "new laptop",
            "replacement",
            "dell",
            "macbook",
            "hardware request",
            "computer",
        ],
        "summary": "How to request a new, replacement or upgraded Dell Latitude or MacBook Pro, including the manager approval step.",
        "body": """Acme's standard laptops are the **Dell Latitude** (Windows) and the **MacBook Pro** (macOS, for design and engineering roles). Laptops are normally replaced every four years, or sooner if they fail.

## Request a laptop

1. Talk to your manager first. Every new or replacement laptop needs their approval.
2. Go to https://helpdesk.acme.example and open a ticket with job type **Hardware Request**.
3. Include:
   - who the laptop is for and their start date (for new hires),
   - Windows or Mac, and why if requesting a Mac outside engineering or design,
   - the asset tag of the laptop being replaced, if any,
   - delivery site: Main Office, Riverside Warehouse, or home address.
4. Your manager is sent an approval request. The order is placed only after they approve.
5. Standard models are usually ready in 5 working days; non-standard models can take three weeks.

## Collecting and setting up

1. Harbor IT will contact you to arrange collection or delivery.
2. Sign in with your Acme account on first start-up. Apps install automatically over the next hour; leave the laptop on and connected.
3. Check that OneDrive has synced your files before returning the old laptop.

## Returning the old laptop

1. Make sure nothing important is saved only on the old laptop (check the Desktop and Downloads folders).
2. Hand it to Harbor IT at the time of the swap. Do not wipe it yourself.

## Broken laptops

If your laptop is damaged or not working, do **not** use Hardware Request. Open a **Hardware** ticket instead so it can be repaired or swapped under warranty. A loan laptop is available for urgent cases.

## Accessories

Docks, monitors, keyboards and headsets are also requested with a **Hardware Request** ticket and need manager approval above 150 USD.
""",
    },
    {
        "title": "Request new software",
        "category": "Software",
        "tags": [
            "software",
            "install",
            "application",
            "license",
            "software request",
            "admin rights",
            "company portal",
        ],
        "summary": "How to install approved software yourself and how to request software that needs approval or a licence.",
        "body": """Acme laptops do not give users administrator rights, which protects them from malware. Many apps can still be installed in a few clicks.

## Install approved apps yourself

1. On Windows, open **Company Portal** from the Start menu. On a Mac, open **Self Service** from Applications.
2. Search for the app, for example Zoom, 7-Zip, Visual Studio Code or Adobe Acrobat Reader.
3. Click **Install**. No ticket or approval is needed.

## Request something that is not listed

1. Check with your manager that the software is needed for your work.
2. Open a ticket at https://helpdesk.acme.example with job type **Software Request**.
3. Include:
   - the name and version of the software, and the vendor's website,
   - what you need it for,
   - whether it needs a paid licence, and the cost centre to charge,
   - how many people need it.
4. Your manager is asked to approve. Paid software also needs a purchase approval.
5. Harbor IT checks the software for security and licensing. This usually takes 3 to 5 working days for new software.
6. When approved, the app is added to Company Portal or Self Service and you are told in the ticket.

## Browser extensions and cloud services

Browser extensions and online services that store Acme data (file converters, AI tools, survey sites) need the same **Software Request** approval. Do not upload company data to services that have not been approved.

## What will not be approved

- Pirated or "cracked" software.
- Personal games and media tools.
- Remote-access tools such as TeamViewer or AnyDesk; use the official options in "Connect to your office PC with Remote Desktop".

## Problems with installed software

If an app that is already installed crashes or will not start, open a **Software** ticket instead.
""",
    },
    {
        "title": "New-hire onboarding checklist",
        "category": "Onboarding",
        "tags": [
            "onboarding",
            "new hire",
            "new starter",
            "first day",
            "checklist",
            "setup",
            "manager",
        ],
        "summary": "What managers must request before a new employee starts and what the new hire does on their first day.",
        "body": """A smooth first day needs about five working days of notice. Managers should start as soon as the offer is accepted.

## For managers: before the start date

1. **At least 5 working days before**, open a **Hardware Request** ticket for the laptop, dock, monitor and headset. Give the start date and site.
2. Open an **Access Request** ticket listing the shared mailboxes, Teams channels, file shares and applications the new hire needs. Name a colleague with similar access as a model if that is easier.
3. For engineering roles, include Slack and any developer tools in the same Access Request.
4. Open a **Software Request** for any licensed software not in the standard build.
5. HR creates the Acme account automatically from the HR system. Check with HR that the start date and job title are correct.

## For the new hire: first day

1. Collect your laptop and badge from reception at the Main Office or Riverside Warehouse.
2. Harbor IT gives you a one-time passcode. Use it to sign in at https://login.acme.example and set your own password of at least 14 characters.
3. Enroll Okta Verify on your phone (see "Set up Okta Verify for multi-factor authentication").
4. Sign in to the laptop and leave it connected for an hour while apps install.
5. Join the **Acme-Corp** Wi-Fi with your Acme email and password.
6. Add the **Follow-Me** printer and link your badge on the first print.
7. Set up Outlook on your phone if you need mobile email.

## First week

- Complete the security awareness course that arrives by email.
- Check OneDrive is syncing your Documents and Desktop.
- Read "How to open a ticket and what the priorities mean".

## When to open a ticket

Managers: if the laptop or access is not ready 2 days before the start date, open a **General** ticket referencing the original requests.
""",
    },
    {
        "title": "Offboarding a leaving employee",
        "category": "Onboarding",
        "tags": [
            "offboarding",
            "leaver",
            "leaving",
            "termination",
            "disable account",
            "return laptop",
            "manager",
        ],
        "summary": "How managers request account removal, mailbox handover and equipment return when someone leaves Acme.",
        "body": """When someone leaves, their access must end on time and their work must be handed over. Managers own this process with HR.

## Before the last day

1. Confirm the leaving date with HR; HR notifies Harbor IT automatically.
2. Open a **General** ticket titled "Offboarding: [name]" at least **5 working days** before the last day. Include:
   - the last working day and time access should end,
   - who should receive their mailbox and OneDrive files,
   - whether an out-of-office reply or email forwarding is needed, and for how long,
   - any shared mailboxes, distribution lists or Slack channels they own.
3. Ask the leaver to move team files from their OneDrive into the right Teams or SharePoint site.
4. Make sure any shared passwords or system accounts they manage are handed over and changed.

## On the last day

1. The account is disabled at the agreed time, which signs the person out of email, Teams, Slack, VPN and every Okta application.
2. Company data is removed from their phone's Outlook app.
3. Collect the laptop, charger, badge, dock and any other Acme equipment. Hand them to Harbor IT at the Main Office or Riverside Warehouse.
4. Remote employees receive a prepaid return box; the manager should chase its return.

## Urgent or involuntary departures

For immediate removal, open a **General** ticket with **priority 1** and phone the helpdesk. Access can be removed within 15 minutes.

## After they leave

- The mailbox is kept for 30 days and then converted or archived as requested.
- OneDrive files are available to the manager for 30 days.
- Ask for anything extra in the same ticket before it closes.
""",
    },
    {
        "title": "Report a phishing email or suspicious sign-in",
        "category": "Security",
        "tags": [
            "phishing",
            "spam",
            "suspicious email",
            "scam",
            "report",
            "security",
            "clicked link",
        ],
        "summary": "How to spot and report phishing, and exactly what to do if you already clicked a link or entered your password.",
        "body": """Phishing emails try to trick you into entering your password, opening malware or paying a fake invoice. Reporting them quickly protects everyone.

## Warning signs

- Urgent pressure: "your account will be closed today", "pay this invoice now".
- A sender name that looks right but an address that does not end in `acme.example`.
- A sign-in page whose address is not `login.acme.example`.
- Unexpected attachments, shared files or requests for gift cards.
- The yellow **External sender** banner on a message that claims to be internal.

## Report a suspicious email

1. Do not click links, open attachments or reply.
2. In Outlook, select the message and click **Report > Report phishing** on the ribbon. On the phone app, open the message, tap the three dots and choose **Report phishing**.
3. The message is removed from your inbox and sent to the Harbor IT security team. No ticket is needed.

## If you already clicked or entered your password

Act immediately; minutes matter.

1. Change your password at https://login.acme.example (see "Reset your password with self-service").
2. Open an **Account & Password** ticket with **priority 2**, or call the helpdesk. Say what you clicked and when.
3. If you opened an attachment, disconnect the laptop from Wi-Fi and the network cable, but leave it switched on, and tell the helpdesk.
4. Do not delete the email; the security team may need it.

## Unexpected Okta Verify prompts

If your phone asks you to approve a sign-in you did not start, tap **No, it's not me**. Then change your password and open a ticket as above; someone may know your password.

## Fake phone calls

Harbor IT will never ask for your password or an MFA code, by phone, email or chat. Hang up and call the helpdesk back on the number shown on https://helpdesk.acme.example.
""",
    },
    {
        "title": "Get your BitLocker or FileVault recovery key",
        "category": "Security",
        "tags": [
            "bitlocker",
            "filevault",
            "recovery key",
            "encryption",
            "locked laptop",
            "blue screen",
        ],
        "summary": "What to do when your Dell laptop asks for a BitLocker recovery key or your Mac asks for its FileVault key.",
        "body": """All Acme laptops are encrypted. Occasionally, after a BIOS update, hardware repair or docking change, the laptop asks for a **recovery key** before it will start. This is a safety check, not a sign your data is lost.

## Windows (Dell Latitude): BitLocker recovery screen

1. Note the **Key ID** shown on the blue screen (the first 8 characters are enough).
2. On your phone or another computer, sign in at https://myaccount.acme.example and open **Devices**.
3. Select your laptop, click **View BitLocker keys** and find the key whose ID matches.
4. Type the 48-digit key into the laptop. The number keys or function keys F1–F10 both work.
5. The laptop starts normally. If it asks again at the next restart, open a ticket.

## Mac (MacBook Pro): FileVault recovery

1. If the Mac says your password cannot unlock the disk, click the question mark and choose **Restart and show password reset options**, or use the recovery key option.
2. Call the helpdesk or open a ticket from another device. Acme stores FileVault keys centrally, and the helpdesk will read you the key after confirming your identity.
3. Enter the key, then set a new login password if asked. Use your current Acme password.

## Cannot get the key yourself

1. Open a **Hardware** ticket at https://helpdesk.acme.example from another device, or call the helpdesk.
2. Include the laptop's asset tag (on the sticker underneath) and the Key ID from the screen.
3. The helpdesk verifies your identity before reading out the key. Keys are never sent by email.

## Keep it safe

- Do not write the key on the laptop or keep it in the laptop bag.
- A key that has been used is rotated automatically afterwards.
""",
    },
    {
        "title": "OneDrive not syncing",
        "category": "Software",
        "tags": ["onedrive", "sync", "files", "backup", "sharepoint", "cloud", "red x"],
        "summary": "How to fix OneDrive sync errors, paused syncing and files stuck with a red or blue icon.",
        "body": """OneDrive backs up your Desktop, Documents and Pictures folders and syncs Teams and SharePoint files to your laptop. If sync stops, your latest work may not be backed up.

## Check the status

1. Click the **OneDrive cloud icon** in the Windows system tray or the Mac menu bar.
2. Read the message at the top:
   - **Up to date** – all fine.
   - **Paused** – click **Resume syncing**.
   - **Sign in** – sign in with your Acme email and approve Okta Verify.
   - A red error badge – click it to see which files are affected.

## Common fixes

1. **File names.** Names containing `" * : < > ? / \\ |`, or starting or ending with a space, cannot sync. Rename the file.
2. **Path too long.** Move deeply nested folders higher up or shorten folder names.
3. **File open elsewhere.** Close Excel or other apps holding the file, then wait a minute.
4. **Disk full.** Right-click large folders and choose **Free up space** so they stay online only.
5. **Large files.** Single files over 250 GB cannot sync. Video projects should go on the department share instead.

## Reset OneDrive

If sync is still stuck:

1. Quit OneDrive from its menu (**Settings > Pause syncing > Quit OneDrive**).
2. On Windows, press Windows+R and run `%localappdata%\\Microsoft\\OneDrive\\onedrive.exe /reset`. On a Mac, run the reset tool in the OneDrive app package or reinstall from Self Service.
3. Start OneDrive again. It rechecks every file, which can take an hour for large libraries. Your files are not deleted.

## Teams and SharePoint libraries

If a synced Teams folder shows errors, you may have lost access to that team. Ask the team owner, or open an **Access Request** ticket.

## When to open a ticket

Open a **Software** ticket with a screenshot of the error if syncing has not recovered after a reset.
""",
    },
    {
        "title": "Connect to your office PC with Remote Desktop",
        "category": "Network & VPN",
        "tags": [
            "remote desktop",
            "rdp",
            "office pc",
            "remote",
            "vpn",
            "work from home",
            "workstation",
        ],
        "summary": "How to reach your desktop PC at the Main Office or Riverside Warehouse from home using the VPN and Remote Desktop.",
        "body": """Some roles, such as finance and warehouse planning, use a desktop PC at the office with software that cannot run on a laptop. You can use that PC from home over the VPN.

## Before you leave the office

1. Find your PC's name: press **Windows+Pause**, or open **Settings > System > About** and note the **Device name** (for example `ACME-MO-0142`).
2. Leave the PC **switched on** and signed out or locked. Do not shut it down; a powered-off PC cannot be reached.
3. Remote access must be enabled for your account. If you have not used it before, open an **Access Request** ticket with your manager's approval a few days ahead.

## Connect from a Windows laptop

1. Connect GlobalProtect to `vpn.acme.example`.
2. Open **Remote Desktop Connection** (search for "mstsc" in the Start menu).
3. Enter the PC name followed by `.corp.acme.example`, for example `ACME-MO-0142.corp.acme.example`.
4. Sign in with your Acme email address and password, and approve Okta Verify if asked.

## Connect from a Mac

1. Install **Windows App** (formerly Microsoft Remote Desktop) from Self Service.
2. Connect the VPN, then add a PC using the full name as above and connect.

## Common problems

- **"Remote Desktop can't find the computer"** – check the VPN is connected and the PC name is spelled correctly.
- **"Your credentials did not work"** – type your email address in full, not just your username.
- **PC not responding** – it may be off or asleep after a power cut. Ask a colleague on site to switch it on.

## When to open a ticket

Open a **Network** ticket if you cannot reach the PC while connected to the VPN. Include the PC name and the exact error message.
""",
    },
    {
        "title": "Browser keeps looping on the Okta sign-in page",
        "category": "Accounts & Access",
        "tags": ["sso", "okta", "sign in loop", "login loop", "browser", "cookies", "redirect"],
        "summary": "How to fix a browser that keeps redirecting back to the Okta sign-in page or shows 'too many redirects'.",
        "body": """Acme applications use Okta single sign-on (SSO). If your browser keeps returning to the sign-in page, or shows "too many redirects", stored cookies or the system clock are usually to blame.

## Quick fixes

1. **Try a private window.** Open an InPrivate (Edge) or Incognito (Chrome) window and sign in at https://login.acme.example. If this works, the problem is your saved browser data.
2. **Clear cookies for Okta and the app.** In browser settings, search for "cookies", open **See all site data** and delete entries for `login.acme.example`, `acme.example` and the application you are trying to reach. Close and reopen the browser.
3. **Check the date and time.** Sign-ins fail if your computer's clock is more than a few minutes out. Set the time to update automatically and restart the browser.
4. **Use a bookmark that starts at Okta.** Old bookmarks to an application's own sign-in page can loop. Start from the Okta dashboard tiles instead.

## If it still loops

1. Sign out of every Okta session: open https://login.acme.example, choose your name menu and **Sign out**, then close all browser windows.
2. Disable browser extensions such as ad blockers or privacy tools temporarily, and try again.
3. Try another supported browser (Edge, Chrome or Safari).
4. Make sure you are not signed in to a personal Microsoft account in the same browser profile. Use a separate browser profile for personal accounts.

## "You do not have access to this application"

This is not a loop. You have not been assigned the app. Open an **Access Request** ticket with your manager's approval.

## When to open a ticket

Open an **Account & Password** ticket if the loop happens in every browser, including a private window. Include the application name, the browser used and a screenshot of the last page you saw.
""",
    },
    {
        "title": "How to open a ticket and what the priorities mean",
        "category": "Getting Help",
        "tags": [
            "ticket",
            "helpdesk",
            "support",
            "priority",
            "response time",
            "job type",
            "contact",
        ],
        "summary": "How to contact Harbor IT, which job type to choose, and what each ticket priority from 1 to 5 means.",
        "body": """Harbor IT Services runs the Acme helpdesk. The quickest way to get help is a ticket at https://helpdesk.acme.example.

## Open a ticket

1. Sign in at https://helpdesk.acme.example with your Acme account.
2. Click **New ticket** and write a short subject, for example "Follow-Me printer on floor 2 jams every page".
3. Choose a **job type**: General, Hardware, Software, Network, Email, Account & Password, Access Request, Hardware Request or Software Request.
4. Describe the problem: what you were doing, the exact error message, when it started, and who else is affected. Attach screenshots.
5. Choose a priority using the table below, then submit. You receive an email with the ticket number; reply to it to add information.

If you cannot sign in at all, call the helpdesk or ask a colleague to open the ticket for you.

## Priorities and response targets

| Priority | Meaning | First response |
|---|---|---|
| 1 – Critical | A whole site or a business-critical system is down, or a security incident | 30 minutes, 24/7 |
| 2 – High | One person or team cannot work at all, with no workaround | 2 business hours |
| 3 – Medium | Work is affected but a workaround exists (the default) | 4 business hours |
| 4 – Low | Minor problem or a how-to question | 1 business day |
| 5 – Lowest | Planned requests and improvements with no deadline | 3 business days |

Business hours are 8:00–18:00, Monday to Friday, at both the Main Office and Riverside Warehouse.

## Tips for faster help

- One problem per ticket, so each can be assigned to the right technician.
- Requests needing approval (Hardware Request, Software Request, Access Request) wait for your manager, so tell them you have asked.
- Please do not raise the priority to get a quicker answer; the helpdesk may adjust it to match the table.
""",
    },
    {
        "title": "What to do during an outage",
        "category": "Getting Help",
        "tags": [
            "outage",
            "down",
            "not working",
            "everyone",
            "status",
            "incident",
            "major incident",
        ],
        "summary": "How to check whether a problem affects everyone, report an outage once, and keep working while it is fixed.",
        "body": """An outage is when a service stops working for many people at once, such as email, the internet at a site, the VPN or a business application.

## 1. Check whether it is just you

1. Ask a couple of colleagues whether they see the same problem.
2. Check the status page at https://status.acme.example. Known incidents and their latest updates are listed there.
3. Look for a banner at the top of https://helpdesk.acme.example.

## 2. Report it once

1. If the outage is **not** already listed, open a ticket with **priority 1** if a whole site or a critical system is down, or **priority 2** if a team is blocked. Choose the matching job type, for example **Network** for internet or VPN, **Email** for Outlook.
2. For a whole-site outage, also phone the helpdesk; tickets may be slow to arrive if the network is down.
3. Include the site, the time it started, what exactly fails and any error message.
4. If the outage is already listed, do not open a new ticket. Add a comment to the existing incident only if you have new information, such as a different site being affected.

## 3. Keep working where possible

- **Internet down at the office:** use your phone's hotspot with the VPN, or work from another site.
- **Email down:** use Teams chat for internal messages; for urgent external contact, use the phone.
- **Teams down:** use a phone call, or Slack for engineering teams.
- **Printing down:** release jobs at another printer or site; Follow-Me jobs wait 24 hours.
- Save your work often, and do not restart laptops repeatedly hoping it will help.

## 4. Follow updates

Harbor IT posts updates on the status page at least every 30 minutes during a priority 1 incident, and sends an email when the service is restored. Check that everything works for you afterwards and reply to your ticket if it does not.
""",
    },
]
