//go:build unix

package msgraph

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// BenchmarkDecodeMembers decodes a page of 999 members as the emulator
// renders it (users with every mapped attribute, on the target their
// extension attributes): "sdk" is the path members took before (kiota's
// parse node, the SDK's models, UserSchema.member), "json" the decoding
// that replaced it. Reported per member: ns, allocations and bytes.
func BenchmarkDecodeMembers(b *testing.B) {
	em := startEmu(b)
	const n = 999
	ids := make([]string, 0, n)
	for i := range n {
		u, err := em.CreateUser(emuSrc, graphemu.User{
			UserPrincipalName: fmt.Sprintf("bench%04d@%s", i, graphemu.SampleSourceDomain), Mail: fmt.Sprintf("bench%04d@contoso.com", i),
			DisplayName: fmt.Sprintf("Bench User %d", i), GivenName: "Bench", Surname: fmt.Sprintf("User %d", i), UserType: "Member",
			AccountEnabled: i%50 != 0, JobTitle: "Engineer", Department: "R&D", CompanyName: "Contoso", OfficeLocation: "Building 7",
			ExtensionAttributes: map[string]string{"extensionAttribute15": fmt.Sprintf("xtsync:v1:%08d", i)},
		})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := em.CreateGroup(emuSrc, graphemu.Group{DisplayName: "Bench", MailNickname: "bench", SecurityEnabled: true, Members: ids})
	if err != nil {
		b.Fatal(err)
	}
	c := emuClient(b, em, "", RetryPolicy{})
	schema := UserSchema{Attributes: engine.UserAttributes()}
	for _, side := range []struct {
		name   string
		target bool
	}{{"source", false}, {"target", true}} {
		top := int32(pageSize)
		info, err := c.sdk.Groups().ByGroupId(g.ID).Members().ToGetRequestInformation(b.Context(), &groups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: schema.memberSelect(side.target), Top: &top},
		})
		if err != nil {
			b.Fatal(err)
		}
		body, err := c.getJSON(b.Context(), info)
		if err != nil {
			b.Fatal(err)
		}
		if got, _, err := schema.decodeMemberPage(bytes.NewReader(body), side.target, nil); err != nil || len(got) != n {
			b.Fatalf("%s page: %d members, %v", side.name, len(got), err)
		}
		decoders := []struct {
			name   string
			decode func() ([]engine.Member, error)
		}{
			{"sdk", func() ([]engine.Member, error) {
				out, _, err := sdkMemberPage(c, body, schema, side.target)
				return out, err
			}},
			{"json", func() ([]engine.Member, error) {
				out, _, err := schema.decodeMemberPage(bytes.NewReader(body), side.target, nil)
				return out, err
			}},
		}
		for _, d := range decoders {
			b.Run(d.name+"/"+side.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				cpu := cpuTime()
				for b.Loop() {
					if out, err := d.decode(); err != nil || len(out) != n {
						b.Fatalf("%d members, %v", len(out), err)
					}
				}
				cpu = cpuTime() - cpu
				runtime.ReadMemStats(&after)
				members := float64(b.N) * n
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/members, "ns/member")
				b.ReportMetric(float64(cpu.Nanoseconds())/members, "cpu-ns/member")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/members, "allocs/member")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/members, "B/member")
			})
		}
	}
}

// cpuTime is the process's CPU time so far (user and system, every thread:
// the decoding and the garbage collection it causes), which the machine's
// other load does not inflate as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListMembers reads the members of 200 groups of 500 (drawn from
// 10,000 users, the size of issue 3's no-change reconcile), 8 groups at a
// time, with the target's select, through the emulator in this process:
// "sdk" is members as it was (sdkMembers), "json" as it is. peak-MiB is the
// highest heap in use while reading, over the heap before (the emulator's
// rendering of the pages is in both).
func BenchmarkListMembers(b *testing.B) {
	const groups, members, pool = 200, 500, 10000
	seed := graphemu.SampleSeed()
	src := &seed.Tenants[0]
	src.Users, src.Groups = nil, nil
	rng := rand.New(rand.NewPCG(groups, members))
	for i := range pool {
		src.Users = append(src.Users, graphemu.User{
			UserPrincipalName: fmt.Sprintf("u%05d@%s", i, graphemu.SampleSourceDomain), Mail: fmt.Sprintf("u%05d@contoso.com", i),
			DisplayName: fmt.Sprintf("User %d", i), UserType: "Member", AccountEnabled: true,
			ExtensionAttributes: map[string]string{"extensionAttribute15": fmt.Sprintf("xtsync:v1:%08d", i)},
		})
	}
	for g := range groups {
		var ms []string
		for _, i := range rng.Perm(pool)[:members] {
			ms = append(ms, src.Users[i].UserPrincipalName)
		}
		src.Groups = append(src.Groups, graphemu.GroupSeed{DisplayName: fmt.Sprintf("Group %d", g), MailNickname: fmt.Sprintf("g%04d", g), SecurityEnabled: true, Members: ms})
	}
	em := graphemu.New(graphemu.Options{})
	if err := em.Load(seed); err != nil {
		b.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = em.Close() })
	c := emuClient(b, em, "", RetryPolicy{})
	var ids []string
	for _, g := range em.Groups(emuSrc) {
		ids = append(ids, g.ID)
	}
	schema := UserSchema{Attributes: engine.UserAttributes()}
	for _, d := range []struct {
		name string
		list func(id string) ([]engine.Member, error)
	}{
		{"sdk", func(id string) ([]engine.Member, error) { return sdkMembers(c, id, false, schema, true) }},
		{"json", func(id string) ([]engine.Member, error) { return c.members(b.Context(), id, false, schema, true) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base, peak := ms.HeapInuse, ms.HeapInuse
				stop, sampled := make(chan struct{}), make(chan struct{})
				go func() {
					defer close(sampled)
					var ms runtime.MemStats
					for {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
						select {
						case <-stop:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				cpu := cpuTime()
				work := make(chan string)
				var wg sync.WaitGroup
				var read atomic.Int64
				for range 8 {
					wg.Go(func() {
						for id := range work {
							out, err := d.list(id)
							if err != nil || len(out) != members {
								b.Errorf("group %s: %d members, %v", id, len(out), err)
							}
							read.Add(int64(len(out)))
						}
					})
				}
				for _, id := range ids {
					work <- id
				}
				close(work)
				wg.Wait()
				cpu = cpuTime() - cpu
				close(stop)
				<-sampled
				b.ReportMetric(float64(peak-base)/(1<<20), "peak-MiB")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(read.Load()), "cpu-ns/member")
			}
		})
	}
}
