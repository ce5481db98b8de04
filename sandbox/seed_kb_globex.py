"""Knowledge-base articles the sandbox seeds for Globex."""

from sandbox.seed_kb_types import SeedArticle

GLOBEX_ARTICLES: list[SeedArticle] = [
    {
        "title": "Install Cisco Secure Client and connect to the Globex VPN",
        "category": "Network & VPN",
        "tags": ["vpn", "cisco", "anyconnect", "secure client", "remote", "install", "connect"],
        "summary": "How to get Cisco Secure Client (AnyConnect) on your ThinkPad and connect to vpn.globex.example with an Authenticator approval.",
        "body": """Use the VPN whenever you work away from Globex HQ and need internal systems, such as the finance application, file servers or your office PC. Google Workspace (Gmail, Drive, Calendar, Meet) works without the VPN.

## Install

1. On a Globex ThinkPad, press the Windows key and type "Cisco Secure Client". If it appears, skip to **Connect**.
2. If it is missing, open **Company Portal** from the Start menu, search for "Cisco Secure Client" and click **Install**. You do not need admin rights.
3. Wait for the Windows notification that the install finished. A restart is only needed if Company Portal asks for one.

## Connect

1. Open Cisco Secure Client. In the box under **VPN**, type `vpn.globex.example` (only needed the first time) and click **Connect**.
2. A Microsoft sign-in window opens. Enter your Globex email address and password.
3. Your phone shows a Microsoft Authenticator request with a two-digit number field. Type the number shown on your laptop screen and tap **Yes**.
4. A banner reminds you that the connection is monitored. Click **Accept**.
5. The padlock on the Secure Client icon in the system tray means you are connected.

## Good to know

- Your session ends after 10 hours, or after 60 minutes with no traffic. Reconnecting is expected, not a fault.
- Personal computers cannot connect; the VPN checks that the device is a managed Globex laptop.
- Disconnect when you are back on GlobexNet in the office.

## When to open a ticket

Open a **Network** ticket at https://helpdesk.globex.example if Company Portal fails to install the client, if you see "Login denied" or "Device not compliant" after approving the Authenticator request, or if you are connected but one particular system will not load. Include your laptop's asset tag (sticker underneath), the exact message and the time.
""",
    },
    {
        "title": "Cisco Secure Client VPN drops or will not reconnect",
        "category": "Network & VPN",
        "tags": ["vpn", "cisco", "anyconnect", "disconnect", "drops", "reconnect", "slow", "dart"],
        "summary": "Checks to run when the Globex VPN keeps disconnecting, hangs on 'Reconnecting' or is slow, and how to collect a DART bundle for the helpdesk.",
        "body": """If the VPN drops every few minutes or sits on "Reconnecting...", the cause is usually the local network. Work through these steps before opening a ticket.

## 1. Rule out your internet connection

1. Disconnect the VPN and open a few public websites, or run a speed test. If pages stall without the VPN, fix the internet first (restart your router, or switch to your phone's hotspot).
2. On hotel, train or airport Wi-Fi, open a browser and complete the network's sign-in page before starting the VPN.
3. Sit closer to the router or plug in a network cable. A weak signal is the most common cause of drops.

## 2. Restart the VPN cleanly

1. Right-click the Secure Client icon in the system tray and choose **Disconnect**, then **Quit**.
2. Close any other VPN or "privacy" app (personal VPNs, some home antivirus web shields).
3. Reopen Cisco Secure Client and connect to `vpn.globex.example` again.
4. If it still fails, restart the laptop and try once more before anything else.

## 3. Look at the error

- **"The VPN connection was disconnected due to the loss of network connectivity"** – your Wi-Fi dropped; see step 1.
- **"Connection attempt has failed"** – check the address is spelled `vpn.globex.example` and that no hotel portal is blocking you.
- **"Your session has expired"** – the 10-hour limit was reached; simply reconnect.

## 4. Collect diagnostics

1. Open the Start menu and run **Cisco Secure Client – DART**.
2. Choose **Default** and click **Next**. A zip file is saved to your desktop after a minute or two.

## When to open a ticket

Open a **Network** ticket if drops continue on a wired or hotspot connection, or if colleagues see the same problem at the same time. Attach the DART zip file and list the times of the drops and where you were working.
""",
    },
    {
        "title": "Connect to the GlobexNet Wi-Fi at Globex HQ",
        "category": "Network & VPN",
        "tags": ["wifi", "wi-fi", "wireless", "globexnet", "connect", "phone", "802.1x"],
        "summary": "How company laptops and enrolled phones join the GlobexNet WPA2-Enterprise network, and which settings to pick on a phone.",
        "body": """GlobexNet is the staff Wi-Fi at Globex HQ. It uses WPA2-Enterprise, so you sign in with your own Globex account rather than a shared password. Visitors and personal laptops use GlobexGuest instead.

## Globex ThinkPads

Company laptops receive a device certificate and join GlobexNet automatically. If yours does not:

1. Click the network icon in the taskbar and choose **GlobexNet**, then **Connect**.
2. If it asks for a user name and password, cancel and restart the laptop while in the building; the certificate is installed at start-up.
3. Still asking? Open **Company Portal**, go to **Devices**, select your laptop and click **Check status**. Then try again.

## Phones

Phones must be enrolled in Globex device management before they can join GlobexNet.

1. Open Wi-Fi settings and tap **GlobexNet**.
2. On Android set:
   - **EAP method:** PEAP
   - **Phase 2 authentication:** MSCHAPV2
   - **CA certificate:** Use system certificates
   - **Domain:** `radius.globex.example`
   - **Identity:** your full Globex email address
   - **Password:** your Globex password
3. On iPhone, enter your email address and password, then tap **Trust** on the certificate screen only if it shows `radius.globex.example`.

## After a password change

Phones remember your old Wi-Fi password and keep retrying it, which can lock your account. After changing your password, open GlobexNet on the phone, tap **Forget** and join again with the new password.

## When to open a ticket

Open a **Network** ticket if a company laptop will not join after a restart in the building, or if the certificate shown on your phone names any other server. Include the device type, your floor and nearest room name.
""",
    },
    {
        "title": "Wi-Fi at Globex HQ is slow, drops or shows 'No internet'",
        "category": "Network & VPN",
        "tags": [
            "wifi",
            "wi-fi",
            "slow",
            "drops",
            "no internet",
            "globexnet",
            "globexguest",
            "signal",
        ],
        "summary": "What to try when GlobexNet or GlobexGuest connects but is slow, keeps dropping or reports no internet access.",
        "body": """Most Wi-Fi problems at Globex HQ can be fixed on the device in a few minutes. Note which network you are on first: **GlobexNet** (staff) or **GlobexGuest** (visitors).

## Step by step

1. **Check it is not everyone.** Ask a colleague nearby. If several people on the same floor lose Wi-Fi at once, skip to "When to open a ticket".
2. **Toggle Wi-Fi.** Turn Wi-Fi off, wait ten seconds and turn it on again. On a ThinkPad you can also press the airplane-mode key twice.
3. **Check the network name.** Company laptops must be on GlobexNet. If a ThinkPad has joined GlobexGuest, internal systems will not load; forget GlobexGuest and select GlobexNet.
4. **"No internet, secured" on GlobexGuest** means the captive portal has expired. Open a browser, visit any website and accept the guest page again. Guest sessions last 12 hours.
5. **Forget and rejoin.** In Wi-Fi settings, forget the network and connect again. On phones, re-enter your current password.
6. **Move.** Meeting rooms with closed glass doors and the basement car park have weaker coverage. Try near the open-plan areas.
7. **Restart.** A full restart clears most driver problems. On ThinkPads, run **Lenovo Commercial Vantage** and install pending Wi-Fi driver updates.

## Plug in instead

Every desk at Globex HQ has a network port on the dock. Plugging in the dock gives you a wired connection immediately, which is useful for large uploads and video calls.

## When to open a ticket

Open a **Network** ticket if the problem continues after a restart, or straight away with **priority 2** if a whole floor or meeting area has no Wi-Fi. Include:

- the network name and the device,
- the floor and the nearest room or desk number,
- the time the problem started,
- a screenshot of any error.
""",
    },
    {
        "title": "Add a Globex Secure Print printer to your laptop",
        "category": "Printing",
        "tags": ["printer", "print", "add printer", "xerox", "altalink", "secure print", "badge"],
        "summary": "How to install the single Globex Secure Print queue so your jobs can be released at any Xerox AltaLink at Globex HQ.",
        "body": """Globex HQ uses one print queue, **Globex Secure Print**, for all Xerox AltaLink printers. You print to the queue, then tap your badge at whichever printer is nearest to collect the pages. There is no need to add each printer separately.

## Install the queue

1. Open **Company Portal** from the Start menu.
2. Search for "Globex Secure Print" and click **Install**. The package adds the queue and the Xerox driver.
3. Open **Settings > Bluetooth & devices > Printers & scanners** and check that **Globex Secure Print** is listed.
4. Optional: select it and click **Set as default** so every application uses it.

## Print a test page

1. Open any document and press **Ctrl+P**.
2. Choose **Globex Secure Print**, then **Print**. Nothing comes out yet; the job is held for you.
3. Walk to an AltaLink and tap your badge on the reader to the right of the touch screen. Your job list appears; tap **Print All**.

## First time using your badge

The first time you tap a badge, the printer asks you to link it to your account:

1. Enter your Globex email address and password on the printer screen.
2. Tap **Link badge**. From now on a tap is enough.

## Printing from a phone or Mac

Phones and Macs are not supported on the secure queue. Email the file to yourself and print it from your ThinkPad, or save it to Google Drive.

## When to open a ticket

Open a **Software** ticket if the Company Portal install fails, or a **Hardware** ticket if the badge reader does not respond. Mention the printer's asset number, which is on the label at the top left of the machine.
""",
    },
    {
        "title": "Xerox printer offline, jammed or my job is not waiting",
        "category": "Printing",
        "tags": [
            "printer",
            "offline",
            "jam",
            "paper jam",
            "badge",
            "release",
            "xerox",
            "secure print",
            "job missing",
        ],
        "summary": "How to clear jams, deal with an offline AltaLink and find a print job that does not appear when you tap your badge.",
        "body": """Because Globex Secure Print holds your job until you tap your badge, you can always collect it at a different AltaLink if one printer is out of action.

## My job is not listed when I tap my badge

1. Check that you printed to **Globex Secure Print**, not to "Microsoft Print to PDF" or an old direct printer.
2. Jobs are kept for **12 hours**. Anything older is deleted automatically; print it again.
3. Open **Settings > Bluetooth & devices > Printers & scanners > Globex Secure Print > Open print queue**. If the job shows "Error", cancel it and print again.
4. If you are working remotely, the laptop must be connected to the VPN when you click Print, otherwise the job stays on the laptop.
5. If the screen says "Badge not recognised", link it again with your email address and password (see "Add a Globex Secure Print printer to your laptop").

## Paper jam

1. Follow the animation on the printer's touch screen; it shows which door to open (usually **A** on the left side or tray 1–4).
2. Pull paper out slowly in the direction of the paper path. Do not use tools and do not touch the fuser area marked with a heat warning.
3. Close every door fully. The printer resumes and your remaining pages print.
4. If the same tray jams repeatedly, fan the paper stack and check the guides are against the edges.

## Printer shows offline or an error code

1. Use a different AltaLink to release your job.
2. Note the error code on the screen (for example 077-900) and the printer's asset number.
3. Do not switch the printer off while it shows "Updating".

## When to open a ticket

Open a **Hardware** ticket for repeated jams, error codes, toner warnings or a printer that stays offline. Reception restocks paper and toner. Use **priority 3** unless it is the only printer on your floor and a deadline depends on it.
""",
    },
    {
        "title": "Set up Microsoft Authenticator for Globex MFA",
        "category": "Security",
        "tags": [
            "mfa",
            "2fa",
            "authenticator",
            "microsoft authenticator",
            "enroll",
            "setup",
            "security info",
        ],
        "summary": "How to register Microsoft Authenticator as your multi-factor method for Globex sign-ins, including a backup method.",
        "body": """Every Globex sign-in through Microsoft Entra ID, including Gmail, Drive, the VPN and the helpdesk portal, needs a second check on your phone. Globex uses the **Microsoft Authenticator** app. SMS codes are allowed only as a backup.

## Before you start

- Have your laptop and your phone with you.
- Install **Microsoft Authenticator** from the App Store or Google Play. Check that the publisher is Microsoft Corporation.

## Register the app

1. On your laptop, go to https://myaccount.globex.example and sign in. If you are new, you will see **More information required**; click **Next**.
2. Open **Security info** and click **Add sign-in method**, then choose **Authenticator app**.
3. On the phone, open Authenticator, tap **+**, choose **Work or school account** and then **Scan QR code**.
4. Scan the QR code shown on the laptop and click **Next**.
5. A test request arrives on the phone. Type the number shown on the laptop and tap **Yes**.
6. Allow notifications for Authenticator when the phone asks; without them you will not see sign-in requests.

## Add a backup method

1. On the same **Security info** page, click **Add sign-in method > Phone**.
2. Enter your mobile number and confirm the code sent by text message.

The backup lets you sign in if Authenticator is not working, and lets you reset your own password.

## Using it day to day

- Approve a request only when you have just tried to sign in yourself.
- If the app asks for your phone's PIN or fingerprint, that is normal.
- Keep the app after changing phones; see "New or lost phone: move or reset Microsoft Authenticator".

## When to open a ticket

Open an **Account & Password** ticket if the QR code will not scan, if no test request arrives after you allowed notifications, or if you do not have a smartphone (Harbor IT can issue a hardware token).
""",
    },
    {
        "title": "New or lost phone: move or reset Microsoft Authenticator",
        "category": "Security",
        "tags": [
            "mfa",
            "authenticator",
            "new phone",
            "lost phone",
            "reset mfa",
            "temporary access pass",
            "replace phone",
        ],
        "summary": "How to move Microsoft Authenticator to a new phone yourself, and how Harbor IT resets MFA with a Temporary Access Pass when the old phone is gone.",
        "body": """What you do depends on whether you still have the old phone.

## I still have the old phone

Do this **before** you wipe or trade in the old phone.

1. Install Microsoft Authenticator on the new phone.
2. On your laptop, open https://myaccount.globex.example and go to **Security info**.
3. Click **Add sign-in method > Authenticator app** and scan the QR code with the new phone. Approve the test request on the new phone.
4. Set the new phone as the **Default sign-in method** using **Change** at the top of the page.
5. Delete the old phone's entry from the list, then remove the Globex account from Authenticator on the old phone.

Restoring an Authenticator backup on a new phone brings back personal accounts, but Globex work accounts must be registered again as above.

## The old phone is lost, broken or wiped

1. If you registered a backup phone number, sign in with **Text me a code** and follow the steps above to add the app.
2. Otherwise, open an **Account & Password** ticket, or ask a colleague or your manager to open one for you. Say your phone is lost.
3. A Harbor IT technician will check your identity with a short video call in which you show your Globex badge, or by confirming with your manager.
4. You receive a **Temporary Access Pass**, a one-time code valid for 60 minutes.
5. Go to https://myaccount.globex.example, sign in with your email and the pass, then register Authenticator on the new phone.

## If the phone was lost or stolen

Tell the helpdesk in the same ticket. If it held Gmail or Drive, Harbor IT will also sign the phone out of your Google account and remove its company data. Use **priority 2** if the phone was unlocked or had no screen lock.
""",
    },
    {
        "title": "Globex password policy explained",
        "category": "Accounts & Access",
        "tags": [
            "password",
            "policy",
            "password rules",
            "expiry",
            "expire",
            "180 days",
            "complexity",
            "passphrase",
        ],
        "summary": "The rules for Globex passwords: at least 12 characters, changed every 180 days, and what happens after five wrong attempts.",
        "body": """Your Globex password is the same for Windows, Gmail, the VPN, GlobexNet Wi-Fi and the helpdesk portal, because all of them sign in through Microsoft Entra ID.

## The rules

- **Length:** at least **12 characters**. Longer is better.
- **Rotation:** passwords expire every **180 days**. Reminder emails start 14 days before and the Windows notification area shows a warning in the last 5 days.
- **History:** you cannot reuse any of your last 10 passwords.
- **Banned words:** passwords containing "Globex", your name, the season or common words such as "password" are rejected, even if they are long.
- **Lockout:** 5 wrong attempts lock your account for **15 minutes**. See "Account locked after too many attempts".

## Choosing a good password

1. Use a passphrase of four or more unrelated words, for example a sentence only you would think of. Add a number or symbol where it feels natural.
2. Never use your Globex password on any other website or service.
3. Do not write it on a sticky note. Globex provides **Bitwarden** in Company Portal for storing other work passwords.

## Changing your password

1. On your ThinkPad, press **Ctrl+Alt+Del** and choose **Change a password**. The laptop must be in the office or on the VPN.
2. Or go to https://password.globex.example from any browser.
3. After changing it, update the password on your phone's GlobexNet Wi-Fi profile and anywhere else you typed it in, otherwise old copies will lock your account.

## When to open a ticket

Open an **Account & Password** ticket if the change page keeps rejecting a password that follows the rules, or if your password expired while you were away and you cannot reach a sign-in page. Harbor IT will never ask you for your password by phone, chat or email.
""",
    },
    {
        "title": "Reset a forgotten password yourself",
        "category": "Accounts & Access",
        "tags": [
            "password",
            "forgot password",
            "reset password",
            "self-service",
            "sspr",
            "expired password",
        ],
        "summary": "How to use Globex self-service password reset to set a new password and unlock your account without calling the helpdesk.",
        "body": """Self-service password reset (SSPR) lets you set a new password at any time of day, as long as you registered Microsoft Authenticator or a phone number. It also unlocks a locked account.

## Reset from a browser

1. On any computer or phone, go to https://password.globex.example.
2. Enter your Globex email address and the characters in the picture, then click **Next**.
3. Verify yourself with two methods: approve the request in Microsoft Authenticator **and** enter the code sent to your registered mobile number.
4. Type a new password that meets the policy (12 or more characters, not one of your last 10) and click **Finish**.
5. Wait about one minute before signing in with the new password.

## Reset from the Windows sign-in screen

1. On your ThinkPad's lock screen, click **Reset password** under the password box. The laptop must have internet access; GlobexNet or a home network both work.
2. Follow the same verification steps as above.
3. Sign in with the new password. If Windows still says the password is incorrect, connect to the VPN from the sign-in screen or come into the office so the laptop can pick up the change.

## After resetting

1. Update the password on your phone's GlobexNet Wi-Fi profile.
2. If Google asks you to sign in again in Chrome or the Gmail app, do so; you will be sent to the Microsoft page.
3. Update Cisco Secure Client only if you told it to save credentials (it does not by default).

## When to open a ticket

If you have no working verification method, open an **Account & Password** ticket from a colleague's account or ask your manager to do it. Harbor IT will confirm your identity before resetting anything.
""",
    },
    {
        "title": "Account locked after too many attempts",
        "category": "Accounts & Access",
        "tags": [
            "locked out",
            "lockout",
            "account locked",
            "cannot sign in",
            "wrong password",
            "unlock",
        ],
        "summary": "Why a Globex account locks for 15 minutes after five wrong passwords, how to unlock it, and how to find the device that keeps locking it.",
        "body": """After **5 wrong password attempts** your Globex account is locked for **15 minutes**. The lock applies everywhere: Windows, Gmail, the VPN and GlobexNet Wi-Fi.

## Unlock it

1. **Wait 15 minutes.** The lock clears on its own. Do not keep trying in the meantime; every attempt during the lock can restart the timer.
2. **Or reset your password** at https://password.globex.example. A successful self-service reset unlocks the account immediately.
3. Sign in once, carefully, with the correct password. Check Caps Lock and the keyboard language (the taskbar shows ENG or another code).

## It keeps locking again

Repeated lockouts almost always come from a device that still has an old password saved and retries it in the background. Check in this order:

1. **Phone Wi-Fi.** Forget **GlobexNet** on your phone and tablet and rejoin with the current password. This is the most common cause at Globex HQ.
2. **Old phones or tablets** left in a drawer but still switched on and connected to GlobexNet.
3. **Mapped network drives** on your laptop that were saved with different credentials: open File Explorer, right-click the drive under **This PC** and choose **Disconnect**, then reconnect.
4. **Windows Credential Manager.** Search for "Credential Manager", open **Windows Credentials** and remove entries that mention globex.
5. **A second laptop** or a meeting-room PC you signed in to earlier.

## When to open a ticket

Open an **Account & Password** ticket if the account locks again within an hour after you have checked the list above. Harbor IT can see which device and location caused the failed attempts. Mention roughly when the lockouts happen.

If you did **not** recently change your password and you get locked out anyway, someone else may be trying your account. Reset your password straight away and open the ticket with **priority 2**.
""",
    },
    {
        "title": "Set up Globex Gmail and Calendar on your phone",
        "category": "Email & Calendar",
        "tags": [
            "gmail",
            "email",
            "phone",
            "mobile",
            "iphone",
            "android",
            "calendar",
            "work profile",
        ],
        "summary": "How to add your Globex Google Workspace account to the Gmail and Google Calendar apps on an iPhone or Android phone.",
        "body": """Globex email and calendar live in Google Workspace. On a phone, use the official **Gmail** and **Google Calendar** apps. The built-in Mail apps and third-party email apps are blocked for Globex accounts.

## Android

1. Open **Settings > Passwords & accounts > Add account > Google** (names vary by manufacturer).
2. Enter your Globex email address. You are redirected to the Microsoft sign-in page.
3. Sign in with your Globex password and approve the Microsoft Authenticator request.
4. When asked, allow the phone to create a **work profile**. Work apps appear with a small briefcase badge and your personal apps stay private.
5. Open Gmail and Calendar from the work profile (the briefcase versions).

## iPhone

1. Install **Gmail** and **Google Calendar** from the App Store.
2. Open Gmail and tap **Sign in > Google**.
3. Enter your Globex email address, then sign in on the Microsoft page and approve the Authenticator request.
4. If prompted, install **Google Device Policy** and follow its steps. This lets Globex wipe work data only, not your photos or personal apps, if the phone is lost.
5. Open Google Calendar; it picks up the same account automatically.

## Requirements

- A screen lock (PIN, password, fingerprint or face) is required.
- The phone's operating system must still receive security updates.
- A maximum of five phones or tablets per person.

## Troubleshooting

- **"Your administrator does not allow this app"** – you are using a mail app other than Gmail.
- **Stuck on the sign-in page** – close the app completely, reopen it and sign in again.
- **Notifications missing** – in Gmail, open **Settings**, choose your Globex account and turn on notifications for **All new mail** or **High priority only**.

## When to open a ticket

Open an **Email** ticket if the work profile or Device Policy setup fails, including the phone model and the error shown.
""",
    },
    {
        "title": "Google storage full and shared inboxes with Google Groups",
        "category": "Email & Calendar",
        "tags": [
            "gmail",
            "storage",
            "mailbox full",
            "quota",
            "shared inbox",
            "google groups",
            "group email",
            "collaborative inbox",
        ],
        "summary": "How to free space when your 30 GB Google storage is full, and how shared team addresses work as Google Groups collaborative inboxes.",
        "body": """## Storage full

Every Globex account has **30 GB** of storage shared between Gmail, Google Drive and Google Photos. When it is full, new email bounces back to senders and you cannot upload to My Drive.

1. Open https://mail.globex.example and click your profile picture, then the storage bar, to see what uses the space.
2. In Gmail, search for `has:attachment larger:10M` and delete old messages with large attachments you no longer need. Save any attachment you want to keep to a shared drive first.
3. Search `older_than:3y` for old newsletters and notifications.
4. Open **Trash** and **Spam** and click **Empty Trash now** / **Delete all spam messages**. Deleted items still count until emptied.
5. In Drive, click **Storage** in the left menu to sort files by size. Move team files to a **shared drive**; they no longer count against your own quota.

Space is freed within an hour or so. If you still need more after cleaning up, open a **Software Request** with your manager's approval for a storage upgrade.

## Shared inboxes (Google Groups)

Team addresses such as sales@globex.example and facilities@globex.example are **Google Groups** set up as collaborative inboxes, not separate mailboxes.

1. To see the messages, open https://groups.globex.example, select the group and click **My Groups > Conversations**.
2. Members can **assign** a conversation to themselves, mark it as **Resolved** or reply as the group address (choose it in the **From** field).
3. To receive copies in your own Gmail, open the group, click **Membership settings** and choose **Each email**.

## Getting access or a new group

- To join an existing group, ask its owner (shown on the group's **About** page) or open an **Access Request** naming the group.
- To create a new shared address, open an **Email** ticket with the address, the owner and the members. Harbor IT creates groups within two working days.
""",
    },
    {
        "title": "Share your Google Calendar and book meeting rooms",
        "category": "Email & Calendar",
        "tags": [
            "calendar",
            "share calendar",
            "delegate",
            "room booking",
            "meeting room",
            "book room",
            "zoom room",
            "free busy",
        ],
        "summary": "How to share your calendar with colleagues or an assistant and how to book Globex HQ meeting rooms in Google Calendar.",
        "body": """## Share your calendar

Colleagues at Globex can see when you are free or busy by default, but not your meeting titles.

1. Open Google Calendar on your laptop.
2. On the left, hover over your name under **My calendars**, click the three dots and choose **Settings and sharing**.
3. Under **Share with specific people or groups**, click **Add people and groups** and enter their Globex addresses.
4. Choose a permission:
   - **See only free/busy (hide details)**
   - **See all event details**
   - **Make changes to events** – suitable for an assistant who books meetings for you
   - **Make changes and manage sharing** – full delegate rights
5. Click **Send**. They see your calendar under **Other calendars**.

To open someone else's calendar, click **+** next to **Other calendars**, choose **Subscribe to calendar** and type their name.

Events you mark as **Private** stay hidden from everyone except people with "Make changes and manage sharing".

## Book a meeting room

1. Create an event and add your guests.
2. Click the **Rooms** tab (or **Find a room**) and choose the building **Globex HQ**.
3. Rooms are listed as floor, name and capacity, for example "HQ-3 Harbour (8) Zoom Room". Rooms marked **Zoom Room** have a camera, microphones and a touch controller.
4. Pick a room that shows as available and save the event. The room accepts automatically; a declined room means it was just booked by someone else.
5. For Zoom Room meetings, add Zoom as the conference option so the room can join with one tap.

## Rules

- Release rooms you no longer need by deleting the event or removing the room.
- Rooms not checked in on the door panel within 10 minutes of the start are released automatically.
- Recurring bookings longer than 3 months need approval from Facilities.

## When to open a ticket

Open an **Email** ticket if a room is missing from the list or a room calendar shows bookings that do not exist.
""",
    },
    {
        "title": "Google Meet or Zoom Room audio and video problems",
        "category": "Collaboration",
        "tags": [
            "meet",
            "google meet",
            "zoom",
            "zoom room",
            "audio",
            "microphone",
            "camera",
            "video",
            "no sound",
            "screen share",
        ],
        "summary": "Fixes for no sound, a muted microphone, a black camera or screen sharing problems in Google Meet and Globex HQ Zoom Rooms.",
        "body": """## Google Meet on your ThinkPad

1. **Camera shows black or a slashed icon.** Slide the ThinkPad's physical privacy shutter above the screen open. Some models have a camera key instead.
2. **Microphone muted.** The **F4** key mutes the microphone for all apps; its light is on when muted.
3. **Check Chrome's permissions.** Click the camera icon in the address bar during a call and choose **Always allow**.
4. **Check Windows privacy.** Open **Settings > Privacy & security > Camera** and **Microphone** and make sure access is on for desktop apps and Chrome.
5. **Pick the right device.** In Meet, click the three dots, then **Settings > Audio** and **Video**. With a headset or dock connected, choose it explicitly.
6. **Screen share not offered.** Use Chrome, and close and reopen the tab if the share button is greyed out.
7. **Choppy video.** Close other video apps, turn off background blur and plug into the dock's network cable if you can.

## Zoom Rooms at Globex HQ

1. **Screen blank.** Tap the controller tablet to wake it. The TV wakes automatically; if it does not, check that its power light is on.
2. **Cannot join.** Tap the meeting on the controller and press **Start**. For a meeting not on the room calendar, tap **Join** and type the meeting ID.
3. **Nobody can hear the room.** Check the mute button on the controller and on the table microphone (red means muted).
4. **Share your laptop.** Tap **Share Screen** on the controller and enter the sharing key in the Zoom app, or use the HDMI cable on the table.
5. **Controller says "Offline" or "Connecting".** Do not unplug equipment. Move to another room if possible.

## When to open a ticket

Open a **Hardware** ticket for room equipment, naming the room, or a **Software** ticket for Meet on your laptop. If a meeting with customers is starting within 30 minutes and a room is broken, use **priority 2** and phone the helpdesk.
""",
    },
    {
        "title": "Google Drive for desktop not syncing, and using shared drives",
        "category": "Collaboration",
        "tags": [
            "google drive",
            "drive",
            "sync",
            "not syncing",
            "shared drive",
            "drive for desktop",
            "offline",
            "files",
        ],
        "summary": "How to fix Google Drive for desktop when files do not sync, and when to keep files in a shared drive instead of My Drive.",
        "body": """Globex laptops use **Google Drive for desktop**, which shows your files as the **G:** drive in File Explorer. Files are streamed: they download when you open them and upload when you save.

## Check the sync status

1. Click the Drive icon (a triangle) in the system tray. The panel shows "Up to date", "Syncing" or an error.
2. Click the gear icon, then **Preferences** to check you are signed in with your Globex account, not a personal Gmail.
3. A file with a red cross in File Explorer failed to upload; hover over it to read why.

## Fix common problems

1. **Stuck on "Syncing".** Click the gear icon, choose **Pause syncing**, wait ten seconds, then **Resume syncing**.
2. **"Insufficient storage".** Your 30 GB quota is full, or the laptop disk is full. Free space as described in "Google storage full and shared inboxes with Google Groups", and keep 10 GB free on the C: drive.
3. **File in use.** Close Office applications and PDFs, then resync. Files open in another program cannot upload.
4. **Duplicate "(1)" copies.** Two people edited the same file offline. Compare both, keep the right one and delete the other.
5. **Needed offline.** Right-click a file or folder on G: and choose **Offline access > Available offline** before travelling.
6. **Nothing works.** Quit Drive for desktop from the gear menu, restart the laptop and open it again. As a last resort, disconnect and reconnect your account in **Preferences**, after uploading anything pending.

## My Drive or shared drive?

- **My Drive** is for personal working files. If you leave Globex, ownership moves to your manager.
- **Shared drives** belong to a team, not a person, and do not use your storage quota. Keep all team and customer documents there.

## When to open a ticket

Open a **Software** ticket if sync errors continue after a restart, attaching a screenshot of the Drive panel. To join a shared drive, use an **Access Request** instead.
""",
    },
    {
        "title": "Request a new or replacement ThinkPad",
        "category": "Hardware",
        "tags": [
            "laptop",
            "new laptop",
            "replacement",
            "thinkpad",
            "hardware request",
            "upgrade",
            "broken laptop",
            "approval",
        ],
        "summary": "How to request a new or replacement Lenovo ThinkPad with a Hardware Request ticket, what models are standard and how approval works.",
        "body": """All Globex laptops are Lenovo ThinkPads running Windows 11, managed by Harbor IT. Laptops are normally replaced after **four years**, or sooner if they fail.

## Standard models

- **ThinkPad T14** – the standard laptop for most staff.
- **ThinkPad X1 Carbon** – lighter, for people who travel at least twice a month.
- **ThinkPad P-series** – for engineering and design roles that need a workstation graphics card.

Every laptop comes with a USB-C dock, charger and a laptop bag. A second monitor is available on request.

## How to request one

1. Sign in to https://helpdesk.globex.example and click **New ticket**.
2. Choose the job type **Hardware Request**.
3. In the description, state:
   - who the laptop is for and whether it is new or replaces an existing one (give the old asset tag),
   - the model you need and, for anything other than a T14, why,
   - the date it is needed by,
   - your manager's name.
4. Submit. Your manager receives an approval email and must click **Approve** in the portal. The ticket waits until they do, so let them know.

## After approval

1. If the model is in stock, Harbor IT prepares the laptop within **5 working days**; otherwise allow up to 3 weeks.
2. You are asked to book a 30-minute handover slot at the Globex HQ IT desk, or the laptop is shipped to your home address.
3. Your files in Google Drive appear automatically on the new laptop. Anything saved only on the old laptop's desktop or Downloads folder must be moved to Drive first.
4. Return the old laptop within **10 working days**. It is wiped and recycled securely.

## Broken laptop

If your laptop is damaged or will not start, open a **Hardware** ticket instead, with **priority 2** if you cannot work at all. Harbor IT keeps loan laptops at Globex HQ for same-day replacement while repairs are arranged.
""",
    },
    {
        "title": "Request software that is not in Company Portal",
        "category": "Software",
        "tags": [
            "software",
            "install",
            "application",
            "app",
            "software request",
            "license",
            "company portal",
            "admin rights",
        ],
        "summary": "How to install approved software from Company Portal and how to request anything else through a Software Request with approval.",
        "body": """Globex laptops do not give users administrator rights, so software is installed through **Company Portal** or by Harbor IT.

## First, check Company Portal

1. Open **Company Portal** from the Start menu.
2. Browse or search the **Apps** list. Everything there is already approved and licensed, for example Zoom, Bitwarden, Adobe Acrobat Reader, 7-Zip and Visual Studio Code.
3. Click **Install**. No ticket or approval is needed.

## Requesting something else

1. Sign in to https://helpdesk.globex.example and click **New ticket**.
2. Choose the job type **Software Request**.
3. Include:
   - the exact product name, the vendor and the version or edition,
   - what you need it for and how often,
   - whether it needs a paid licence or subscription, and the cost centre to charge,
   - whether it will handle customer or personal data.
4. Submit. Your manager is asked to approve it in the portal.

## What happens next

1. **Manager approval.** Nothing happens until your manager approves.
2. **Security review.** New vendors, browser extensions and cloud services that store Globex data are reviewed by Harbor IT security. This takes up to **5 working days**.
3. **Purchase.** Paid licences are bought through Globex procurement.
4. **Install.** Harbor IT publishes the app to Company Portal for you, or installs it remotely. You get a ticket update when it is ready.

Approved apps are often added to Company Portal for everyone, so the next person will not need a ticket.

## Things that are not allowed

- Personal cloud storage sync clients, other than Google Drive for desktop.
- Remote-control tools such as personal TeamViewer accounts.
- Cracked or "free trial" versions of paid software.

## When to open a different ticket

If software you already have stops working, open a **Software** ticket instead of a request. Include the error and when it started.
""",
    },
    {
        "title": "Request access to a shared drive, group or application",
        "category": "Accounts & Access",
        "tags": [
            "access",
            "permission",
            "access request",
            "shared drive",
            "application",
            "denied",
            "request access",
            "app access",
        ],
        "summary": "How to ask for access to a Google shared drive, a Google Group or a business application using an Access Request ticket.",
        "body": """Access to team data and business applications at Globex is granted per person and approved by the owner of the data, not only by your manager.

## Quick route: ask the owner in Google

For a single file or folder, click **Request access** on the "You need access" page in Drive. The owner receives an email and can grant it directly. No ticket is needed.

## Access Request ticket

Use an **Access Request** for shared drives, Google Groups, and applications that you sign in to with your Globex account (for example the finance system, the CRM or the HR portal).

1. Sign in to https://helpdesk.globex.example and click **New ticket**.
2. Choose the job type **Access Request**.
3. Include:
   - the exact name of the shared drive, group or application,
   - the level of access needed. For shared drives: **Viewer**, **Commenter**, **Contributor**, **Content manager** or **Manager**. For applications: the role, such as "read only" or "approver",
   - why you need it and for how long, if temporary,
   - the person you are requesting for, if not yourself.
4. Submit. Your manager approves first, then the data owner. Harbor IT grants access once both have approved.

Most requests are completed within **one working day** of the final approval. Sign out and back in, or reload the application, if it does not appear straight away.

## Choosing the right level

- Request the lowest level that lets you do your job. **Contributor** is enough to add and edit files.
- **Manager** lets you change membership and is limited to two or three people per shared drive.
- Access to finance and HR data is reviewed every quarter and removed if unused.

## Access removed or denied

If access you had has disappeared, open an **Access Request** explaining what you had before. If you see "Access denied" in an application you use every day, open an **Account & Password** ticket with a screenshot.
""",
    },
    {
        "title": "New-hire onboarding at Globex: manager and first-day checklist",
        "category": "Onboarding",
        "tags": [
            "onboarding",
            "new hire",
            "new starter",
            "new employee",
            "first day",
            "account setup",
            "joiner",
        ],
        "summary": "What a manager must request before a new employee starts at Globex, and what the new hire does on day one.",
        "body": """Getting a new colleague ready takes about two weeks of notice. Late requests mean the person starts without a laptop or access.

## For the manager: before the start date

1. **10 working days before:** make sure HR has entered the new hire with the correct name, job title, department and start date. The Globex account is created from this record.
2. **10 working days before:** open a **Hardware Request** for the laptop (see "Request a new or replacement ThinkPad"). State the start date and whether it should be collected at Globex HQ or shipped.
3. **5 working days before:** open one **Access Request** listing the shared drives, Google Groups and applications the person needs. "Same as" a named colleague is fine.
4. If special software is needed, open a **Software Request** at the same time.
5. Ask Facilities for a desk and a building badge. The badge also releases print jobs.

## For the new hire: day one

1. Collect your ThinkPad and badge from the IT desk at Globex HQ, or open the box shipped to you.
2. Turn on the laptop, connect to GlobexNet or your home Wi-Fi and sign in with your Globex email address and the **temporary password** your manager gives you.
3. You are asked to choose a new password (12 characters or more) and to set up **Microsoft Authenticator**. Follow "Set up Microsoft Authenticator for Globex MFA".
4. Let the laptop finish installing apps, which takes about 30 minutes.
5. Open Chrome, sign in to Gmail, Calendar and Drive, and join your team's shared drives.
6. Install the **Globex Secure Print** queue and Cisco Secure Client from Company Portal if they are not there yet.
7. Tap your badge at a printer to link it to your account.

## When to open a ticket

Managers: open a **General** ticket with **priority 2** if a new hire's account or laptop is not ready on the morning of the start date. New hires can ask their manager or buddy to raise anything else.
""",
    },
    {
        "title": "Offboarding: when an employee leaves Globex",
        "category": "Onboarding",
        "tags": [
            "offboarding",
            "leaver",
            "leaving",
            "termination",
            "last day",
            "disable account",
            "return laptop",
        ],
        "summary": "What a manager requests when someone leaves Globex, what happens to their email, files and laptop, and how urgent removals are handled.",
        "body": """Leavers are handled by their manager together with HR. Harbor IT disables access on the last working day and keeps the person's data available to the manager for a limited time.

## For the manager

1. Confirm HR has recorded the leaving date.
2. At least **3 working days** before the last day, open a **General** ticket titled "Leaver: [full name]". Include:
   - the last working day and time access should end (default 17:30),
   - who should receive the person's Gmail and My Drive files (normally you),
   - whether an automatic reply should be set, and its text,
   - Google Groups and shared drives where the person is the only owner or manager,
   - how the laptop, dock and badge will be returned.
3. Ask the leaver to move team documents from My Drive to the right shared drive before their last day.

## What Harbor IT does

1. **At the agreed time:** signs the account out everywhere, blocks sign-in, removes Microsoft Authenticator and removes the person's phones from device management (only work data is wiped).
2. **Email:** the mailbox is delegated to the named person for **30 days**, with the automatic reply if requested. After 30 days, mail to the address is returned to the sender.
3. **Files:** ownership of My Drive files is transferred to the named person in a folder with the leaver's name.
4. **Groups and shared drives:** ownership is moved to the manager so nothing is left without an owner.
5. **Licences:** Google Workspace, Zoom and application licences are released.
6. **Account deletion:** after 90 days.

## Returning equipment

The laptop, dock, charger and badge go to the IT desk at Globex HQ. Remote staff receive a prepaid return box. Do not wipe the laptop yourself; Harbor IT checks it first for files that were not in Drive.

## Urgent removal

If access must end immediately, for example after a dismissal, open a **General** ticket with **priority 1** and phone the helpdesk so a technician can act within 15 minutes.
""",
    },
    {
        "title": "Report a phishing email in Gmail",
        "category": "Security",
        "tags": [
            "phishing",
            "scam",
            "spam",
            "suspicious email",
            "report phishing",
            "clicked link",
            "security",
            "fraud",
        ],
        "summary": "How to spot and report phishing with Gmail's 'Report phishing' option, and what to do if you clicked a link or approved an unexpected sign-in.",
        "body": """Phishing emails try to make you click a link, open an attachment, enter your password or pay a fake invoice. Reporting them helps Harbor IT block the same message for everyone at Globex.

## Warning signs

- A sender name you know, but an address outside globex.example or slightly misspelled.
- Gmail's yellow or red banner: "Be careful with this message".
- Urgency: an expiring password, a missed delivery, a CEO asking for gift cards or a bank detail change.
- A sign-in page for "Microsoft" or "Google" reached from an email link. Globex sign-in always happens on the Microsoft page your browser opens by itself.

## Report it

1. Open the message in Gmail on the web. Do not click links or open attachments.
2. Click the three dots **⋮** next to the **Reply** arrow.
3. Choose **Report phishing**, then confirm.
4. The message moves out of your inbox and Harbor IT security is notified. You do not need to forward it.

On the Gmail phone app, open the message, tap the three dots at the top and choose **Report phishing**. Plain spam can go to **Report spam** instead.

## If you clicked, opened or typed something

1. Do not wait or feel embarrassed; speed matters most.
2. If you entered your password, change it immediately at https://password.globex.example.
3. If you opened an attachment, disconnect the laptop from Wi-Fi and the dock's network cable.
4. Open an **Account & Password** ticket with **priority 2**, or call the helpdesk, and say what you clicked and when.

## Unexpected Authenticator requests

If Microsoft Authenticator asks you to approve a sign-in you did not start, tap **No, it's not me**, then **Report**. Someone has your password: reset it straight away and open a **priority 2** ticket.

## Payment requests

Never change bank details or pay a new supplier based on email alone. Confirm by phone using a number you already have.
""",
    },
    {
        "title": "BitLocker recovery screen: find your recovery key",
        "category": "Security",
        "tags": [
            "bitlocker",
            "recovery key",
            "encryption",
            "blue screen",
            "recovery",
            "thinkpad",
            "locked laptop",
        ],
        "summary": "How to get the 48-digit BitLocker recovery key for your ThinkPad yourself or from Harbor IT when the laptop asks for it at start-up.",
        "body": """Every Globex ThinkPad is encrypted with BitLocker. Occasionally, usually after a BIOS or firmware update, a docking change or a hardware repair, the laptop stops at a blue **BitLocker recovery** screen and asks for a 48-digit key. Your data is safe; you just need the key.

## 1. Note the Key ID

On the recovery screen, find the line **Recovery key ID** and write down the first 8 characters. This identifies the right key.

## 2. Get the key yourself

1. On another device, such as your phone or a colleague's computer, go to https://myaccount.globex.example and sign in with your Globex account and Microsoft Authenticator.
2. Open **Devices** and select your laptop. The name matches the asset tag on the sticker underneath, for example GLX-LT-04127.
3. Click **View BitLocker Keys**, then **Show recovery key**.
4. Check that the Key ID matches the one on the screen.

## 3. Enter the key

1. Type the 48 digits into the recovery screen; the dashes are added automatically. You can use the number row or the F1–F10 keys (F10 is 0).
2. Press **Enter**. Windows starts normally.
3. Restart the laptop once more. If it goes straight to Windows, the problem is solved.

## If it asks again on every start

1. Unplug the dock and any USB drives, then restart.
2. If the recovery screen still returns, open a **Hardware** ticket; the laptop's security chip may need attention.

## When to open a ticket

If you cannot sign in to see the key, open an **Account & Password** ticket, or call the helpdesk, with the Key ID and the asset tag. A technician will verify your identity before reading the key to you. After a key has been shown, Harbor IT rotates it automatically, so do not write it down for later.

Never share a recovery key by email or chat, and never type it into a page you reached from a link.
""",
    },
    {
        "title": "Connect to your Globex HQ desktop with Remote Desktop",
        "category": "Network & VPN",
        "tags": [
            "remote desktop",
            "rdp",
            "remote access",
            "office pc",
            "work from home",
            "mstsc",
            "vpn",
        ],
        "summary": "How to reach your office PC at Globex HQ from your ThinkPad using the VPN and the Windows Remote Desktop app.",
        "body": """Some roles at Globex, such as finance and engineering, have a desktop PC at Globex HQ that runs software that is not on laptops. You can use it from home with Remote Desktop over the VPN.

## Before you leave the office

1. Ask Harbor IT, with an **Access Request**, to enable remote access to your desktop if it has not been set up. Include the PC's name (on the sticker on the front, for example GLX-DT-01562).
2. Leave the PC **switched on** and signed out or locked. Do not shut it down. If it restarts for updates, it comes back on automatically.
3. Do not turn off the monitor power strip if the PC is plugged into it.

## Connect from your ThinkPad

1. Connect to the VPN with Cisco Secure Client (`vpn.globex.example`).
2. Press the Windows key, type **Remote Desktop Connection** and open it.
3. In **Computer**, type your PC's name followed by `.corp.globex.example`, for example `GLX-DT-01562.corp.globex.example`.
4. Click **Show Options** and enter your user name as your Globex email address.
5. Under **Local Resources**, choose which printers or drives to share; leave clipboard on.
6. Click **Connect**, enter your Globex password and approve the Microsoft Authenticator request.
7. To end the session, use **Start > Sign out** on the remote PC. Just closing the window leaves programs running.

## Troubleshooting

- **"Remote Desktop can't find the computer"** – check the VPN is connected and the name is spelled correctly.
- **"Remote Desktop can't connect"** – the PC is probably switched off or asleep. Ask a colleague in the office to press the power button.
- **"Your credentials did not work"** – type the full email address, not just your first name.
- **Slow or blurry** – on the **Experience** tab choose a lower connection speed.

Personal computers are not allowed to connect.

## When to open a ticket

Open a **Network** ticket if you still cannot connect while on the VPN and the PC is confirmed switched on.
""",
    },
    {
        "title": "Browser keeps looping between Google and Microsoft sign-in",
        "category": "Accounts & Access",
        "tags": [
            "sign in",
            "login loop",
            "browser",
            "chrome",
            "google",
            "sso",
            "redirect",
            "cookies",
            "cannot log in",
        ],
        "summary": "How to fix a browser that bounces between the Google and Microsoft sign-in pages, or signs you in to the wrong Google account.",
        "body": """When you sign in to Gmail, Drive or Calendar, Google sends you to the Microsoft sign-in page, and Microsoft sends you back once you have approved the Authenticator request. If something interrupts this hand-off, the pages can bounce back and forth or end on an error.

## Quick test

1. Open a **new Incognito window** in Chrome (Ctrl+Shift+N).
2. Go to https://mail.globex.example and sign in.
3. If it works in Incognito, the problem is in your normal browser profile; continue below. If it also fails in Incognito, skip to "When to open a ticket".

## Fix your browser

1. **Sign out of every Google account.** Click your profile picture in Gmail and choose **Sign out of all accounts**. Personal Gmail accounts in the same window are the most common cause.
2. **Clear cookies for the sign-in sites.** In Chrome, open **Settings > Privacy and security > Third-party cookies** and check that sign-in sites are not blocked, then **Delete browsing data** for the last 7 days with **Cookies** and **Cached images** ticked.
3. **Turn off extensions.** Ad blockers and privacy extensions can block the redirect. Try with them disabled.
4. **Check the clock.** If the laptop's date or time is wrong, sign-in tokens are rejected. Open **Settings > Time & language > Date & time** and click **Sync now**.
5. **Use a separate Chrome profile** for personal browsing so the two accounts never mix. Click your profile picture in the Chrome toolbar and choose **Add**.
6. Restart Chrome completely and try again.

## Error messages

- **"Your sign-in was successful but does not meet the criteria"** – the device is not recognised as a managed Globex device. Use your ThinkPad, not a personal computer.
- **"AADSTS50058"** – the browser lost your sign-in session; closing all browser windows usually fixes it.

## When to open a ticket

Open an **Account & Password** ticket if the loop happens even in Incognito. Include the browser, a screenshot of the final page and any error code, including the correlation ID at the bottom.
""",
    },
    {
        "title": "Get Wi-Fi for visitors on GlobexGuest",
        "category": "Network & VPN",
        "tags": [
            "guest wifi",
            "globexguest",
            "visitor",
            "guest",
            "captive portal",
            "wifi",
            "personal device",
        ],
        "summary": "How visitors and personal devices get internet access on GlobexGuest through the captive portal, and what the guest network can and cannot do.",
        "body": """GlobexGuest is an internet-only Wi-Fi network at Globex HQ for visitors, contractors without a Globex laptop, and staff's personal devices. It cannot reach internal systems, printers or meeting-room equipment.

## Connect a guest device

1. On the device, choose the Wi-Fi network **GlobexGuest**. There is no Wi-Fi password.
2. A sign-in page opens automatically. If it does not, open a browser and go to any website, for example http://guest.globex.example.
3. Enter the visitor's name, email address and the **Globex host's email address**, and accept the terms of use.
4. The host receives an email and taps **Approve**. Access starts within a minute.
5. Access lasts **12 hours**. After that, the page appears again and the visitor repeats the steps.

## Events and long visits

For a training day, workshop or contractor staying several days, reception can print voucher codes valid for up to **5 days**. Ask reception at least one working day in advance with the number of guests.

## Staff personal devices

You can put a personal phone, tablet or laptop on GlobexGuest, approving the request yourself as host. Do not put Globex ThinkPads on GlobexGuest; they belong on GlobexNet.

## What is blocked

- Peer-to-peer file sharing and some streaming sites.
- Connections between devices on the guest network, so a visitor cannot cast to a meeting-room screen over Wi-Fi. Use the HDMI cable in the room instead.
- Speeds are limited to 20 Mbit/s per device.

## Troubleshooting

1. If the sign-in page never appears, turn off any VPN on the device and browse to a site starting with `http://`, not `https://`.
2. If the host did not get the approval email, ask them to check Spam, or ask reception for a voucher.
3. "Connected, no internet" after a few hours means the 12 hours have passed; repeat the sign-in.

## When to open a ticket

The host can open a **Network** ticket if the portal page fails for several guests at once. Include the time and the number of people affected.
""",
    },
    {
        "title": "External monitors or dock not working with your ThinkPad",
        "category": "Hardware",
        "tags": [
            "monitor",
            "screen",
            "dock",
            "docking station",
            "display",
            "usb-c",
            "thinkpad",
            "second screen",
            "no signal",
        ],
        "summary": "Fixes for a Lenovo USB-C dock or external monitor that shows no signal, the wrong layout or stops charging the ThinkPad.",
        "body": """Desks at Globex HQ have a **Lenovo USB-C dock** that connects monitors, keyboard, mouse, network cable and power with one cable. Most problems are solved by reconnecting in the right order.

## Monitor shows "No signal"

1. Check that the monitor is switched on and set to the right input. Press the input button on the monitor and choose **DisplayPort** or **HDMI** to match the cable.
2. Unplug the USB-C cable from the laptop, wait ten seconds and plug it in again. Use the USB-C port marked with a lightning or dock symbol; on most ThinkPads it is the one nearest the back.
3. Press **Windows + P** and choose **Extend**.
4. Open **Settings > System > Display** and click **Detect** under **Multiple displays**.
5. Restart the laptop while it is connected to the dock.

## Wrong arrangement or blurry text

1. In **Settings > System > Display**, drag the numbered screens so they match the monitors on your desk.
2. Select each screen and set the **Display resolution** marked **(Recommended)**.
3. Tick **Make this my main display** for the monitor in front of you.

## Dock problems

1. **Laptop not charging.** Check the dock's power light is on and that the power brick is firmly plugged into the dock, not just the wall.
2. **Keyboard, mouse or network not working.** Power-cycle the dock: unplug its power for 30 seconds, then reconnect power before the laptop.
3. **Problems after a Windows update.** Open **Lenovo Commercial Vantage**, choose **System Update** and install dock firmware and display driver updates. Keep the laptop docked and on power while it runs.

## When to open a ticket

Open a **Hardware** ticket if a monitor, dock or cable seems faulty after these steps. Include the desk number, the dock's serial number (on the bottom) and what you have already tried. Harbor IT keeps spare docks and cables at Globex HQ and can usually swap them the same day.
""",
    },
    {
        "title": "How to open a ticket with Harbor IT and what the priorities mean",
        "category": "Getting Help",
        "tags": [
            "ticket",
            "helpdesk",
            "support",
            "priority",
            "response time",
            "job type",
            "contact",
            "help",
        ],
        "summary": "How Globex staff contact Harbor IT, which job type to pick, and the meaning and response target of priorities 1 (critical) to 5 (lowest).",
        "body": """Harbor IT Services provides IT support for Globex. Use the helpdesk portal for anything that is not an emergency; phone for priority 1.

## Open a ticket

1. Go to https://helpdesk.globex.example and sign in with your Globex account.
2. Click **New ticket**.
3. Pick the **job type** that fits best:
   - **General** – questions, onboarding and offboarding, anything else
   - **Hardware** / **Software** / **Network** / **Email** – something is broken
   - **Account & Password** – sign-in, MFA, lockouts
   - **Access Request**, **Hardware Request**, **Software Request** – new things, which need approval
4. Write a subject that says what and where, for example "AltaLink on 2nd floor shows error 077-900".
5. In the description, give the exact error text, when it started, what you already tried, and your laptop's asset tag. Add screenshots.
6. Choose a priority (below) and submit. Updates arrive by email; reply to add details.

If you cannot sign in at all, call the helpdesk on extension **4357** from any desk phone, or ask a colleague to open the ticket for you.

## Priorities and first-response targets

- **1 – Critical:** Globex HQ, email, the VPN or a business-critical system is down for many people, or there is an active security incident. First response **15 minutes, 24/7**. Also phone the helpdesk.
- **2 – High:** you or your team cannot work and there is no workaround, or an urgent deadline is at risk. **1 business hour.**
- **3 – Medium:** work is affected but you can carry on another way. This is the default. **4 business hours.**
- **4 – Low:** minor faults and how-to questions. **2 business days.**
- **5 – Lowest:** planned changes and suggestions with no deadline. **5 business days.**

Business hours are 08:00–17:30, Monday to Friday, Globex HQ time.

## Approval requests

Request job types wait for your manager's approval in the portal before the clock starts, so tell them you have submitted one. Harbor IT may adjust the priority to match these definitions.
""",
    },
    {
        "title": "What to do during an IT outage at Globex",
        "category": "Getting Help",
        "tags": [
            "outage",
            "down",
            "not working",
            "everyone",
            "status page",
            "incident",
            "service down",
        ],
        "summary": "How to tell whether a problem is a wider outage, report it without duplicating tickets, and keep working until the service returns.",
        "body": """An outage is a failure that affects many people at once, such as Gmail, the internet at Globex HQ, the VPN, Wi-Fi on a floor or a business application.

## 1. Check whether others are affected

1. Ask two or three colleagues, ideally in other teams or on another floor.
2. Open the status page at https://status.globex.example. Known incidents show there with the latest update and the next update time.
3. Check the banner at the top of https://helpdesk.globex.example.

## 2. Tell Harbor IT

1. If the outage is **not** listed, open a ticket with **priority 1** if Globex HQ, Gmail, the VPN or a critical system is down for many people, or **priority 2** if one team is stopped. Use the matching job type: **Network** for internet, Wi-Fi and VPN, **Email** for Gmail and Calendar, **Software** for applications.
2. For priority 1, also call extension **4357**; when the office network is down, tickets may not reach the helpdesk.
3. Say what fails, where, since when, and the exact error.
4. If it **is** listed, do not open a new ticket. Add a comment to it only when you can add something new, for example another area being affected.

## 3. Keep working

- **Office internet down:** use your phone's hotspot and connect the VPN, or work from home if your manager agrees.
- **VPN down:** Gmail, Drive, Calendar and Meet work without it.
- **Gmail down:** use Google Chat, or Zoom and phone calls for urgent matters.
- **Google Meet down:** use Zoom or a Zoom Room for scheduled calls.
- **Printing down:** your jobs wait 12 hours; release them later or at another AltaLink.
- Keep files in Drive for desktop; changes sync when the service returns.

## 4. Afterwards

Harbor IT posts updates every 30 minutes during a priority 1 incident and emails everyone when it is resolved. If something still does not work for you, reply to the incident email rather than opening a new ticket.
""",
    },
]
