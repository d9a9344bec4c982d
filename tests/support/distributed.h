#pragma once
// Test harness for the distributed engines (issue 6): a Redis Cluster, a Redis
// Sentinel group and a PostgreSQL streaming replica, all on loopback ports in
// temp folders. Like servers.h, a watchdog process stops everything (and
// removes the folder) if the test process dies, so nothing outlives a run.
//
// Every constructor waits until its group is ready and throws tier::Error
// (TimeoutError if it is not ready in time; NotFoundError if a binary is
// missing). Destructors stop every process they started.
//
// Thread-safety: none; create, use and destroy on the test's main thread.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "servers.h"
#include "tier/redis/redis_client.h"

namespace tier::test {

// The address of the master serving the hash slot of `key` in `topology`
// (RedisClient::topology()); empty if none does.
std::string slotOwner(const std::vector<redis::NodeInfo>& topology, const std::string& key);

// Runs `command` through /bin/sh with stdout+stderr captured (a file, not a
// pipe, so daemons that keep descriptors cannot hang us), killed after timeout.
struct ShellRun {
  int code = -1;  // exit status; -1 if it did not run or timed out
  std::string output;
};
ShellRun runShell(const std::string& command, std::chrono::seconds timeout = std::chrono::seconds(60));

// ---- Redis Cluster -------------------------------------------------------------

struct ClusterNode {
  std::string id;    // 40-hex node id
  std::string host;  // 127.0.0.1
  int port = 0;
  bool master = false;
  std::string master_id;  // for a replica: its master's id
  bool failed = false;    // flagged fail / pfail, or not connected
  int slots = 0;          // hash slots served (masters)
  std::string address() const { return host + ":" + std::to_string(port); }
};

// 3 masters + 3 replicas (cluster-node-timeout 5000 ms), created with
// `redis-cli --cluster create ... --cluster-replicas 1`. No password.
class TestRedisCluster {
 public:
  TestRedisCluster();
  ~TestRedisCluster();
  TestRedisCluster(const TestRedisCluster&) = delete;
  TestRedisCluster& operator=(const TestRedisCluster&) = delete;

  // redis+cluster://127.0.0.1:P (the first node; any node is a valid seed).
  std::string seedUrl() const;
  std::vector<int> ports() const;  // every node's port, in start order
  // The live topology as a running node sees it (CLUSTER NODES); asks the
  // first reachable node. Empty if none answers.
  std::vector<ClusterNode> nodes() const;
  std::vector<ClusterNode> masters() const;
  // redis-cli against one node (args split by the shell); returns stdout.
  std::string cli(int port, const std::string& args) const;
  // redis-cli -c (follows MOVED/ASK) against one node.
  std::string cliCluster(int port, const std::string& args) const;

  // SIGKILL the node on `port`; returns once it is gone.
  void kill(int port);
  // Starts a killed node again with its nodes.conf, so it rejoins the cluster.
  void restart(int port);
  // True once every running node reports cluster_state:ok and all nodes agree
  // on which 3 nodes are masters.
  bool healthy() const;
  // Polls healthy() until true; false after timeout.
  bool waitHealthy(std::chrono::milliseconds timeout) const;
  // One line per node (port, alive, cluster_state, role) for failure messages.
  std::string describe() const;
  // `redis-cli --cluster reshard` moving `slots` hash slots from one master to
  // another (both given by port). Throws tier::Error with redis-cli's output if it fails.
  void reshard(int fromPort, int toPort, int slots);

  const std::string& dir() const { return dir_; }

 private:
  void startNode(int index);
  std::string nodeDir(int index) const;
  int indexOf(int port) const;
  std::string dir_;
  std::vector<int> ports_;
  long watchdog_ = 0;
};

// ---- Redis Sentinel ------------------------------------------------------------

// 1 master, 1 replica (replicaof) and 3 sentinels monitoring them as
// masterName() with quorum 2, down-after-milliseconds 1000, failover-timeout 5000.
class TestRedisSentinel {
 public:
  TestRedisSentinel();
  ~TestRedisSentinel();
  TestRedisSentinel(const TestRedisSentinel&) = delete;
  TestRedisSentinel& operator=(const TestRedisSentinel&) = delete;

  std::string masterName() const { return "tiermaster"; }
  std::vector<std::string> sentinelAddresses() const;  // "127.0.0.1:P" each
  std::vector<int> sentinelPorts() const { return sentinel_ports_; }
  std::vector<int> dataPorts() const { return {data_ports_[0], data_ports_[1]}; }
  // redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/tiermaster
  std::string url() const;
  // The master as SENTINEL get-master-addr-by-name reports it (asks the
  // sentinels in turn); 0 if none answers.
  int currentMasterPort() const;
  std::string cli(int port, const std::string& args) const;

  // SIGKILL the current master's redis-server; returns its port.
  int killMaster();
  // Starts a killed data node again on its port (Sentinel then makes it a replica).
  void restart(int port);
  // Waits until every sentinel reports a master other than oldMasterPort and
  // that node answers ROLE as master. Returns the new master port, 0 on timeout.
  int waitForFailover(int oldMasterPort, std::chrono::milliseconds timeout) const;
  // True once every sentinel sees the master, one replica and the 2 other sentinels.
  bool ready() const;

  const std::string& dir() const { return dir_; }

 private:
  void startData(int index, int replicaOfPort);
  void startSentinel(int index, int masterPort);
  std::string dir_;
  int data_ports_[2] = {0, 0};
  std::vector<int> sentinel_ports_;
  long watchdog_ = 0;
};

// ---- PostgreSQL streaming replica ----------------------------------------------

// A hot-standby replica of `primary` made with `pg_basebackup -R` (run as user
// postgres when root) and started on its own port. REQUIRES: the primary was
// made without a password and outlives this object. Adds a `replication` line
// for its superuser on 127.0.0.1 to the primary's pg_hba.conf (re-added by
// start() if the primary was restarted in between, which rewrites that file).
class TestPostgresReplica {
 public:
  explicit TestPostgresReplica(TestPostgres& primary);
  ~TestPostgresReplica();
  TestPostgresReplica(const TestPostgresReplica&) = delete;
  TestPostgresReplica& operator=(const TestPostgresReplica&) = delete;

  std::string conninfo() const;  // host=127.0.0.1 port=R dbname=tier user=tier
  int port() const;
  void stop();   // pg_ctl stop -m fast
  void start();  // same data folder and port; waits until it accepts connections
  bool running() const;

  // Bytes of WAL the replica has still to replay: primary's
  // pg_current_wal_insert_lsn() minus the replica's pg_last_wal_replay_lsn().
  // -1 if either cannot be asked.
  long long replayLagBytes() const;
  // Seconds since the last replayed transaction committed, or 0 when replay has
  // caught up with what was received. -1 if the replica cannot be asked.
  double replayLagSeconds() const;
  // Polls replayLagBytes() until it is 0; false after timeout.
  bool waitCaughtUp(std::chrono::milliseconds timeout) const;
  const std::string& dir() const { return dir_; }

 private:
  void allowReplication() const;
  void respawnWatchdog();
  TestPostgres& primary_;
  std::string dir_;
  std::unique_ptr<tier::sandbox::PostgresServerProcess> proc_;
  int port_ = 0;
  long watchdog_ = 0;
};

}  // namespace tier::test
