using YamlDotNet.RepresentationModel;

namespace DeliveryGrains.Docs.Tests;

/// <summary>
/// deploy/kubernetes parses as Kubernetes YAML and holds together: the kustomization lists every file,
/// the silo's probes are the health endpoints on its HTTP port, its image is the one Silo/Dockerfile
/// builds, its ports are the ones the silo listens on, and the Service and the PodDisruptionBudget
/// select the silo's pods.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Folder = Path.Combine(Repository.Root, "deploy", "kubernetes");

    private static readonly Lazy<List<YamlMappingNode>> Documents = new(() =>
        Directory.GetFiles(Folder, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml").SelectMany(Load).ToList());

    private static IEnumerable<YamlMappingNode> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }

    private static YamlMappingNode Only(string kind) => Assert.Single(Documents.Value, d => Text(d, "kind") == kind);

    private static string? Text(YamlNode node, params string[] path)
    {
        var at = Child(node, path);
        return at is YamlScalarNode scalar ? scalar.Value : null;
    }

    private static YamlNode? Child(YamlNode node, params string[] path)
    {
        var at = node;
        foreach (var key in path)
        {
            if (at is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            at = next;
        }

        return at;
    }

    private static YamlMappingNode SiloContainer()
    {
        var containers = (YamlSequenceNode)Child(Only("Deployment"), "spec", "template", "spec", "containers")!;
        return (YamlMappingNode)Assert.Single(containers.Children);
    }

    private static Dictionary<string, string> Labels(YamlNode? node) =>
        ((YamlMappingNode?)node)?.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!) ?? [];

    [Fact]
    [Trait("Area", "Operations")]
    public void The_kustomization_lists_every_manifest_of_the_folder()
    {
        var kustomization = Load(Path.Combine(Folder, "kustomization.yaml")).Single();
        var listed = ((YamlSequenceNode)Child(kustomization, "resources")!).Children.Select(n => ((YamlScalarNode)n).Value).Order();

        Assert.Equal(Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order(), listed);
    }

    [Theory]
    [Trait("Area", "Operations")]
    [InlineData("readinessProbe", "/health/ready")]
    [InlineData("startupProbe", "/health/ready")]
    [InlineData("livenessProbe", "/health/live")]
    public void The_silo_probes_its_health_endpoints_on_its_http_port(string probe, string path)
    {
        var container = SiloContainer();

        Assert.Equal(path, Text(container, probe, "httpGet", "path"));
        Assert.Equal("http", Text(container, probe, "httpGet", "port"));
    }

    [Fact]
    [Trait("Area", "Operations")]
    public void The_silo_runs_the_image_Silo_Dockerfile_builds_and_exposes_its_ports()
    {
        var container = SiloContainer();
        var dockerfile = File.ReadAllText(Path.Combine(Repository.Root, "Silo", "Dockerfile"));
        var ports = ((YamlSequenceNode)Child(container, "ports")!).Children
            .ToDictionary(p => Text(p, "name")!, p => Text(p, "containerPort")!);

        Assert.StartsWith("deliverygrains-silo:", Text(container, "image"));
        Assert.Contains("-t deliverygrains-silo", dockerfile);
        Assert.Equal(new Dictionary<string, string> { ["http"] = "8080", ["silo"] = "11111", ["gateway"] = "30000" }, ports);
        Assert.Contains("EXPOSE 8080 11111 30000", dockerfile);
        var env = ((YamlSequenceNode)Child(container, "env")!).Children.ToDictionary(e => Text(e, "name")!, e => e);
        Assert.Equal("http://0.0.0.0:8080", Text(env["Urls"], "value"));
        Assert.Equal(ports["silo"], Text(env["Orleans__SiloPort"], "value"));
        Assert.Equal(ports["gateway"], Text(env["Orleans__GatewayPort"], "value"));
        Assert.Equal("true", Text(env["Orleans__Kubernetes"], "value"));
        Assert.Equal("Postgres", Text(env["DeliveryGrains__Storage"], "value"));
        Assert.All(["POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_CLUSTER_ID", "ORLEANS_SERVICE_ID"], name => Assert.NotNull(Child(env[name], "valueFrom", "fieldRef")));
        Assert.Equal("deliverygrains-postgres", Text(env["ConnectionStrings__Postgres"], "valueFrom", "secretKeyRef", "name"));
    }

    [Fact]
    [Trait("Area", "Operations")]
    public void The_service_and_the_disruption_budget_select_the_silo_pods()
    {
        var podLabels = Labels(Child(Only("Deployment"), "spec", "template", "metadata", "labels"));
        var serviceSelector = Labels(Child(Only("Service"), "spec", "selector"));
        var budgetSelector = Labels(Child(Only("PodDisruptionBudget"), "spec", "selector", "matchLabels"));
        var deploymentSelector = Labels(Child(Only("Deployment"), "spec", "selector", "matchLabels"));

        Assert.All(new[] { serviceSelector, budgetSelector, deploymentSelector }, selector =>
        {
            Assert.NotEmpty(selector);
            Assert.All(selector, label => Assert.Equal(label.Value, podLabels.GetValueOrDefault(label.Key)));
        });
        Assert.Equal("http", Text(((YamlSequenceNode)Child(Only("Service"), "spec", "ports")!).Children[0], "targetPort"));
        Assert.Equal("1", Text(Only("PodDisruptionBudget"), "spec", "maxUnavailable"));
        Assert.Equal(Text(Only("ServiceAccount"), "metadata", "name"), Text(Only("Deployment"), "spec", "template", "spec", "serviceAccountName"));
    }
}
