//! Running one fallible job per item on a few threads, with results in the items' order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `work(item, scratch)` for every item, on up to `threads` threads (each with its own
/// `scratch`, made once by `scratch()`). The results come in the items' order; on failure
/// the error is that of the first failing item in that order, whichever thread met it
/// first, so the outcome never depends on the thread count.
pub fn map_ordered<T, R, E, S>(
    items: &[T],
    threads: usize,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(&T, &mut S) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let first_error: Mutex<Option<(usize, E)>> = Mutex::new(None);
    let run = || {
        let mut scratch = scratch();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return;
            };
            match work(item, &mut scratch) {
                Ok(result) => results.lock().unwrap()[i] = Some(result),
                Err(error) => {
                    let mut slot = first_error.lock().unwrap();
                    if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                        *slot = Some((i, error));
                    }
                }
            }
        }
    };
    let threads = threads.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(run);
        }
        run();
    });
    if let Some((_, error)) = first_error.into_inner().unwrap() {
        return Err(error);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|result| result.expect("every item ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_on_any_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 2, 7, 5000] {
            let squares = map_ordered(&items, threads, || (), |x, _| Ok::<_, ()>(x * x)).unwrap();
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_error_is_the_first_failing_items_whichever_thread_meets_it() {
        let items: Vec<u32> = (0..500).collect();
        for threads in [1, 2, 8] {
            let error = map_ordered(
                &items,
                threads,
                || (),
                |&x, _| {
                    if x % 100 == 37 {
                        // Later failures finish first: the reported one must still be 37.
                        std::thread::sleep(std::time::Duration::from_millis(
                            (500 - u64::from(x)) / 50,
                        ));
                        Err(x)
                    } else {
                        Ok(x)
                    }
                },
            )
            .unwrap_err();
            assert_eq!(error, 37);
        }
    }

    #[test]
    fn a_thread_makes_its_scratch_once() {
        let items = vec![(); 64];
        let lens = map_ordered(&items, 1, Vec::<u8>::new, |_, scratch| {
            scratch.push(0);
            Ok::<_, ()>(scratch.len())
        })
        .unwrap();
        assert_eq!(lens, (1..=64).collect::<Vec<_>>());
    }
}
