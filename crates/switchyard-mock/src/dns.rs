//! A scriptable mock DNS server for resolver tests.
//!
//! [`MockDns`] answers `A` and `AAAA` queries over UDP on `127.0.0.1` from a table the test sets
//! and may change at any time ([`MockDns::set`]), so a test can play DNS rebinding: a public
//! answer first, then an internal one with TTL 0. Unknown names get `NXDOMAIN`; a known name with
//! no address of the asked family gets an empty `NOERROR` answer. A name can be made to go
//! unanswered ([`MockDns::silence`], the resolver times out) or to fail ([`MockDns::servfail`]).
//! Every query is counted per name ([`MockDns::queries`]), so caching is observable.
//!
//! Messages are parsed and written with `hickory-proto`. Names are matched case-insensitively
//! and without the trailing dot. Dropping the mock stops it.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use hickory_proto::op::{Header, Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What the mock does with queries for one name.
#[derive(Debug, Clone)]
enum Entry {
    Answer { ips: Vec<IpAddr>, ttl: u32 },
    Silent,
    ServFail,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<String, Entry>,
    queries: HashMap<String, usize>,
}

/// A running mock DNS server (UDP, `127.0.0.1`, a free port).
pub struct MockDns {
    addr: SocketAddr,
    table: Arc<Mutex<Table>>,
    task: JoinHandle<()>,
}

impl MockDns {
    /// Binds a free UDP port on `127.0.0.1` and starts answering.
    pub async fn start() -> io::Result<MockDns> {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await?;
        let addr = socket.local_addr()?;
        let table = Arc::new(Mutex::new(Table::default()));
        let task = tokio::spawn(serve(socket, table.clone()));
        Ok(MockDns { addr, table, task })
    }

    /// The address to give a resolver as its name server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers `name` with `ips` (`A` for the IPv4 ones, `AAAA` for the IPv6 ones) and a TTL of
    /// `ttl_secs`, from the next query on.
    pub fn set(&self, name: &str, ips: Vec<IpAddr>, ttl_secs: u32) {
        self.put(name, Entry::Answer { ips, ttl: ttl_secs });
    }

    /// Leaves queries for `name` unanswered, so the resolver times out.
    pub fn silence(&self, name: &str) {
        self.put(name, Entry::Silent);
    }

    /// Answers queries for `name` with `SERVFAIL`.
    pub fn servfail(&self, name: &str) {
        self.put(name, Entry::ServFail);
    }

    /// Forgets `name`: it gets `NXDOMAIN` again.
    pub fn remove(&self, name: &str) {
        lock(&self.table).entries.remove(&normalize(name));
    }

    /// How many queries (of any type) for `name` the mock has received.
    pub fn queries(&self, name: &str) -> usize {
        lock(&self.table)
            .queries
            .get(&normalize(name))
            .copied()
            .unwrap_or(0)
    }

    fn put(&self, name: &str, entry: Entry) {
        lock(&self.table).entries.insert(normalize(name), entry);
    }
}

impl Drop for MockDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(table: &Mutex<Table>) -> MutexGuard<'_, Table> {
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

async fn serve(socket: UdpSocket, table: Arc<Mutex<Table>>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Some(reply) = answer(&buf[..len], &table) else {
            continue;
        };
        // A lost reply is what a resolver must cope with anyway.
        let _ = socket.send_to(&reply, peer).await;
    }
}

/// The reply to one query message, or `None` to stay silent.
fn answer(query: &[u8], table: &Mutex<Table>) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    if request.message_type() != MessageType::Query {
        return None;
    }
    let mut header = Header::response_from_request(request.header());
    header.set_authoritative(true);
    header.set_recursion_available(true);
    let mut reply = Message::new();
    reply.add_queries(request.queries().iter().cloned());

    let Some(q) = request.queries().first() else {
        header.set_response_code(ResponseCode::FormErr);
        reply.set_header(header);
        return reply.to_vec().ok();
    };
    let name = normalize(&q.name().to_ascii());
    let entry = {
        let mut t = lock(table);
        *t.queries.entry(name.clone()).or_insert(0) += 1;
        t.entries.get(&name).cloned()
    };
    match entry {
        None => {
            header.set_response_code(ResponseCode::NXDomain);
        }
        Some(Entry::Silent) => return None,
        Some(Entry::ServFail) => {
            header.set_response_code(ResponseCode::ServFail);
        }
        Some(Entry::Answer { ips, ttl }) => {
            let records = ips.iter().filter_map(|ip| {
                let rdata = match (q.query_type(), ip) {
                    (RecordType::A, IpAddr::V4(v4)) => RData::A(A::from(*v4)),
                    (RecordType::AAAA, IpAddr::V6(v6)) => RData::AAAA(AAAA::from(*v6)),
                    _ => return None,
                };
                Some(Record::from_rdata(q.name().clone(), ttl, rdata))
            });
            reply.add_answers(records);
        }
    }
    reply.set_header(header);
    reply.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;
    use std::time::Duration;

    async fn ask(dns: &MockDns, name: &str, ty: RecordType) -> Option<Message> {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let mut msg = Message::new();
        msg.set_id(7)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_ascii(name).unwrap(), ty));
        socket
            .send_to(&msg.to_vec().unwrap(), dns.addr())
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let len = tokio::time::timeout(Duration::from_millis(300), socket.recv(&mut buf))
            .await
            .ok()?
            .unwrap();
        Some(Message::from_vec(&buf[..len]).unwrap())
    }

    fn addrs(msg: &Message) -> Vec<(IpAddr, u32)> {
        msg.answers()
            .iter()
            .filter_map(|r| match r.data() {
                RData::A(a) => Some((IpAddr::V4(a.0), r.ttl())),
                RData::AAAA(a) => Some((IpAddr::V6(a.0), r.ttl())),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn answers_from_the_table_and_follows_changes() {
        let dns = MockDns::start().await.unwrap();
        dns.set(
            "Host.Test",
            vec![
                "93.184.216.34".parse().unwrap(),
                "2001:db8::1".parse().unwrap(),
            ],
            30,
        );

        let a = ask(&dns, "host.test.", RecordType::A).await.unwrap();
        assert_eq!(a.id(), 7);
        assert_eq!(a.message_type(), MessageType::Response);
        assert_eq!(a.response_code(), ResponseCode::NoError);
        assert_eq!(addrs(&a), [("93.184.216.34".parse().unwrap(), 30)]);
        let aaaa = ask(&dns, "HOST.test", RecordType::AAAA).await.unwrap();
        assert_eq!(addrs(&aaaa), [("2001:db8::1".parse().unwrap(), 30)]);

        dns.set("host.test", vec!["10.0.0.5".parse().unwrap()], 0);
        let a = ask(&dns, "host.test.", RecordType::A).await.unwrap();
        assert_eq!(addrs(&a), [("10.0.0.5".parse().unwrap(), 0)]);
        let aaaa = ask(&dns, "host.test.", RecordType::AAAA).await.unwrap();
        assert_eq!(aaaa.response_code(), ResponseCode::NoError);
        assert!(addrs(&aaaa).is_empty());
        assert_eq!(dns.queries("host.test"), 4);
    }

    #[tokio::test]
    async fn unknown_names_silenced_and_failing_names() {
        let dns = MockDns::start().await.unwrap();
        let nx = ask(&dns, "nowhere.test.", RecordType::A).await.unwrap();
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);

        dns.silence("quiet.test");
        assert!(ask(&dns, "quiet.test.", RecordType::A).await.is_none());
        assert_eq!(dns.queries("quiet.test."), 1);

        dns.servfail("broken.test");
        let sf = ask(&dns, "broken.test.", RecordType::A).await.unwrap();
        assert_eq!(sf.response_code(), ResponseCode::ServFail);

        dns.set("gone.test", vec!["93.184.216.34".parse().unwrap()], 5);
        dns.remove("gone.test");
        let nx = ask(&dns, "gone.test.", RecordType::A).await.unwrap();
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);
        assert_eq!(dns.queries("unasked.test"), 0);
    }
}
