package platform

import "time"

// Ion returns the built-in topology "ion": the platform of the seed article
// (how Mule iON stays up when EC2 is down). A MongoDB replica set with two
// members in us-east-1 and a hidden, priority-0 hot standby in us-west-1; a
// four-node Elasticsearch cluster, one node per us-east-1 zone, 5 primary
// shards with 1 replica, snapshotting to S3; S3 in both regions with the east
// buckets synced to the west periodically.
//
// It returns a fresh value each call so callers may modify it.
func Ion() *Topology {
	one := 1
	return &Topology{
		Name: "ion",
		Regions: []Region{
			{Name: "us-east-1", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}},
			{Name: "us-west-1", Zones: []string{"us-west-1a", "us-west-1b", "us-west-1c"}},
		},
		Services: []ServiceSpec{
			{
				Name:       "mongo",
				Kind:       KindMongo,
				ReplicaSet: "ion-rs",
				Members: []MongoMember{
					{Name: "mongo-east-1a", Zone: "us-east-1a", Priority: 2, Tags: map[string]string{"region": "us-east-1"}},
					{Name: "mongo-east-1b", Zone: "us-east-1b", Priority: 1, Tags: map[string]string{"region": "us-east-1"}},
					{Name: "mongo-west-1a", Zone: "us-west-1a", Priority: 0, Hidden: true, Votes: &one, Tags: map[string]string{"region": "us-west-1"}},
				},
				// A write concern that needs both regions: two members whose
				// "region" tags differ (https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.getLastErrorModes).
				WriteModes: map[string]map[string]int{"multiRegion": {"region": 2}},
			},
			{
				Name: "logs",
				Kind: KindElastic,
				Nodes: []NodePlacement{
					{Name: "es-east-1a", Zone: "us-east-1a"},
					{Name: "es-east-1b", Zone: "us-east-1b"},
					{Name: "es-east-1c", Zone: "us-east-1c"},
					{Name: "es-east-1d", Zone: "us-east-1d"},
				},
				Shards:           5,
				Replicas:         1,
				SnapshotTo:       "artifacts",
				SnapshotInterval: Duration(5 * time.Minute),
			},
			{
				Name: "artifacts",
				Kind: KindS3,
				Endpoints: []S3Endpoint{
					{Name: "s3-us-east-1", Region: "us-east-1"},
					{Name: "s3-us-west-1", Region: "us-west-1"},
				},
				PrimaryRegion: "us-east-1",
				SyncInterval:  Duration(time.Minute),
				// The seed's key-value pairs and the roles built from them.
				Artifacts: []Artifact{
					{Key: "ion-console", File: "console.war"},
					{Key: "chef-configuration", File: "chef-recipe.config"},
					{Key: "elasticsearch", File: "elasticsearch.jar"},
				},
				Roles: []ArtifactRole{
					{Name: "console", Keys: []string{"ion-console", "chef-configuration"}},
					{Name: "elasticsearch", Keys: []string{"elasticsearch", "chef-configuration"}, Service: "logs"},
				},
			},
		},
	}
}

// BuiltinTopologies maps the names a scenario may use for `topology:` to
// their constructors.
func BuiltinTopologies() map[string]func() *Topology {
	return map[string]func() *Topology{"ion": Ion}
}
