using DeliveryGrains.Silo.Security;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DeliveryGrains.Silo.OperatorConsole;

/// <summary>
/// The operator console: server-rendered Razor Pages served by the silo at <c>/</c>, signed in with
/// a cookie that authenticates through the API's <c>Caller</c> scheme, so every role is checked as
/// for the API. Needs <c>AddDeliveryApi()</c> first.
/// </summary>
public static class OperatorConsoleHostingExtensions
{
    public static WebApplicationBuilder AddOperatorConsole(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OperatorConsoleOptions>().BindConfiguration(OperatorConsoleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var console = builder.Configuration.GetSection(OperatorConsoleOptions.Section).Get<OperatorConsoleOptions>() ?? new();

        var keys = services.AddDataProtection().SetApplicationName("DeliveryGrains.Console");
        if (!string.IsNullOrWhiteSpace(console.KeyRingPath))
        {
            keys.PersistKeysToFileSystem(KeyRing(console.KeyRingPath));
        }

        // A request without an API key is whoever the console's cookie says.
        services.Configure<CallerSchemeOptions>(o => o.Interactive = ConsoleSignIn.SchemeName);
        services.AddAuthentication().AddCookie(ConsoleSignIn.SchemeName, o => ConsoleSignIn.Configure(o, console));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "DeliveryGrains.Console.Antiforgery";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__console_token";
        });
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/OperatorConsole/Pages";
                o.Conventions.AllowAnonymousToPage("/SignIn");
            })
            .ConfigureApplicationPartManager(AddConsolePages)
            .AddMvcOptions(o =>
            {
                o.Filters.Add<RequiresRoleFilter>();
                o.Filters.Add<AntiforgeryProblemFilter>();
            });
        services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = console.MaxUploadBytes + UploadFormOverhead);

        // First, so a browser asking for HTML gets a console page where the API's JSON writer would answer.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, ConsoleProblemWriter>());
        services.AddSingleton(new InteractiveSignIn("/signin"));

        return builder;
    }

    /// <summary>
    /// The pages are compiled into the silo's assembly. MVC finds parts from the entry assembly, which
    /// is the silo when it runs on its own but not when a test process hosts it: add them when missing.
    /// </summary>
    private static void AddConsolePages(ApplicationPartManager parts)
    {
        var assembly = typeof(OperatorConsoleHostingExtensions).Assembly;
        if (parts.ApplicationParts.Any(p => p is AssemblyPart part && part.Assembly == assembly))
        {
            return;
        }

        foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
        {
            parts.ApplicationParts.Add(part);
        }
    }

    /// <summary>The shared key-ring folder, created when missing; a folder the silo cannot use stops it at start, naming the key.</summary>
    private static DirectoryInfo KeyRing(string path)
    {
        try
        {
            var folder = Directory.CreateDirectory(path);
            var probe = Path.Combine(folder.FullName, $".write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return folder;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new OptionsValidationException($"{OperatorConsoleOptions.Section}:{nameof(OperatorConsoleOptions.KeyRingPath)}", typeof(string),
                [$"{OperatorConsoleOptions.Section}:{nameof(OperatorConsoleOptions.KeyRingPath)} '{path}' is not a folder this silo can write: {ex.Message}"]);
        }
    }

    private static readonly Lazy<byte[]> Favicon = new(() =>
    {
        using var stream = ConsoleAssets.Files.GetFileInfo("favicon.ico").CreateReadStream();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    });

    /// <summary>Room for a form's other fields beside its target file.</summary>
    public const long UploadFormOverhead = 64 * 1024;

    public static WebApplication MapOperatorConsole(this WebApplication app)
    {
        app.MapGet("/favicon.ico", () => TypedResults.File(Favicon.Value, "image/x-icon"))
            .AllowAnonymous()
            .AddEndpointFilter(async (context, next) =>
            {
                context.HttpContext.Response.Headers.CacheControl = "public, max-age=86400";
                return await next(context);
            });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = ConsoleAssets.Files,
            RequestPath = ConsoleAssets.RequestPath,
            OnPrepareResponse = c =>
            {
                // Every link carries the build's version (ConsoleAssets.Href), so a file can be kept for good.
                c.Context.Response.Headers[HeaderNames.CacheControl] = c.Context.Request.Query.ContainsKey("v")
                    ? "public, max-age=31536000, immutable"
                    : "no-cache";
            },
        });
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<InteractiveSignInMetadata>() is not null)
            {
                SecureHeaders(context.Response.Headers);
            }

            return next(context);
        });
        app.MapRazorPages()
            .RequireAuthorization(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(CallerSchemeOptions.SchemeName).RequireAuthenticatedUser().Build())
            .WithMetadata(InteractiveSignInMetadata.Instance);
        return app;
    }

    /// <summary>Every script and style comes from this silo; no page can be framed or post elsewhere.</summary>
    public static void SecureHeaders(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
            "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
    }
}

/// <summary>
/// The console's stylesheet and script, compiled into the silo and served from <c>/console/</c>:
/// the same bytes whether the silo runs from its build output, a published folder, a container or
/// a test host, with no content root or static web assets manifest to find.
/// </summary>
public static class ConsoleAssets
{
    public const string RequestPath = "/console";

    public static readonly IFileProvider Files = new EmbeddedFileProvider(typeof(ConsoleAssets).Assembly, "DeliveryGrains.Silo.OperatorConsole.Assets");

    private static readonly string Version = typeof(ConsoleAssets).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];

    /// <summary>The URL of an asset with this build's version, e.g. <c>/console/console.css?v=…</c>.</summary>
    public static string Href(string file) => $"{RequestPath}/{file}?v={Version}";
}
