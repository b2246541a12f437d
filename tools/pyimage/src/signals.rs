//! Interrupted runs leave nothing behind.
//!
//! `SIGTERM`, `SIGINT` and `SIGHUP` (what build tools send on cancel or timeout) are
//! blocked in every thread and taken by one thread that waits for them: it removes every
//! visible temporary file of the process ([`crate::atomic`]; unnamed ones vanish with the
//! process anyway) and exits with status 128 + the signal's number. A commit in progress
//! finishes first, so an interrupted run leaves all of its outputs or none. Signals the
//! process was started with ignored stay ignored.

use std::io;

const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Takes over `SIGTERM`, `SIGINT` and `SIGHUP` for the whole process. Call it first in
/// `main`, before any other thread is started (threads inherit the blocked set).
pub fn clean_up_on_termination() -> io::Result<()> {
    // SAFETY: plain libc calls on local, initialised signal sets.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in SIGNALS {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut current) == 0
                && current.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            libc::sigaddset(&mut set, signal);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        set
    };
    std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || loop {
            let mut signal: libc::c_int = 0;
            // SAFETY: `set` is a valid signal set; `signal` is a valid out-pointer.
            if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                let _held = crate::atomic::remove_all_temporaries();
                // SAFETY: ends the process without running destructors or atexit
                // handlers, which other threads may be in the middle of.
                unsafe { libc::_exit(128 + signal) };
            }
        })?;
    Ok(())
}
