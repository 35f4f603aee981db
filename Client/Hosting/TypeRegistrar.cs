using Microsoft.Extensions.DependencyInjection;
using Spectre.Console.Cli;

namespace DeliveryGrains.Client.Hosting;

/// <summary>
/// Lets Spectre.Console.Cli build commands from a Microsoft.Extensions.DependencyInjection
/// container: the client app's host, or a test's own service collection.
/// </summary>
public sealed class TypeRegistrar(IServiceCollection services, Func<IServiceCollection, IServiceProvider>? build = null) : ITypeRegistrar
{
    public void Register(Type service, Type implementation) => services.AddSingleton(service, implementation);

    public void RegisterInstance(Type service, object implementation) => services.AddSingleton(service, implementation);

    public void RegisterLazy(Type service, Func<object> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        services.AddSingleton(service, _ => factory());
    }

    public ITypeResolver Build() => new TypeResolver(build is null ? services.BuildServiceProvider() : build(services));
}

public sealed class TypeResolver(IServiceProvider provider) : ITypeResolver
{
    public object? Resolve(Type? type) => type is null ? null : provider.GetService(type);
}
