using Mono.Cecil;
using Mono.Cecil.Cil;

namespace OrderExport.UnitTests.Structure;

/// <summary>One folder of src/OrderExport using another, with what shows it ("OutboxMonitor uses HealthOptions").</summary>
public sealed record FolderUse(string From, string To, string Evidence);

/// <summary>
/// Which folder of src/OrderExport uses which, read two ways: from the compiled assembly (base
/// types, interfaces, attributes, fields, signatures and every type, method and field an IL
/// instruction names, so a use inside a lambda or an async method counts too), and from the
/// source's <c>using OrderExport.X;</c> lines (a constant is copied into the IL as a number, so
/// only the source shows that it was read from another folder).
/// </summary>
public static class FolderDependencies
{
    /// <summary>Types in the root namespace (and Program): the composition root, which may use every folder.</summary>
    public const string Root = "(root)";

    private const string RootNamespace = "OrderExport";

    /// <summary>
    /// The folder a namespace belongs to: <c>OrderExport.Platform.Fake</c> is in <c>Platform</c>;
    /// null for namespaces that are not ours (code the Mediator and other source generators write).
    /// </summary>
    public static string? FolderOf(string @namespace)
    {
        if (@namespace.Length == 0 || @namespace == RootNamespace)
        {
            return Root;
        }

        if (!@namespace.StartsWith(RootNamespace + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = @namespace[(RootNamespace.Length + 1)..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    /// <summary>Every use of one folder's type by another folder's, as the compiled assembly shows it.</summary>
    public static IReadOnlyList<FolderUse> FromAssembly(string assemblyPath)
    {
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        var uses = new HashSet<FolderUse>();
        foreach (var type in assembly.MainModule.Types)
        {
            var from = Owner(type);
            if (from is null)
            {
                continue;
            }

            var referenced = new HashSet<TypeReference>();
            Collect(type, referenced);
            foreach (var target in referenced)
            {
                var to = Owner(target);
                if (to is not null && to.Value.Folder != from.Value.Folder)
                {
                    uses.Add(new FolderUse(from.Value.Folder, to.Value.Folder, $"{from.Value.Name} uses {to.Value.Name}"));
                }
            }
        }

        return [.. uses];
    }

    /// <summary>Every <c>using OrderExport.X;</c> in one folder's files that names another folder.</summary>
    public static IReadOnlyList<FolderUse> FromSource(string sourceRoot)
    {
        var uses = new List<FolderUse>();
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sourceRoot, file);
            if (relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                || relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            var from = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? relative[..relative.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal)]
                : Root;
            foreach (var line in File.ReadLines(file))
            {
                var trimmed = line.Trim();
                if (!trimmed.StartsWith("using OrderExport.", StringComparison.Ordinal) || !trimmed.EndsWith(';'))
                {
                    continue;
                }

                var to = FolderOf(trimmed["using ".Length..^1].Trim());
                if (to is not null && to != from)
                {
                    uses.Add(new FolderUse(from, to, $"{Path.GetFileName(file)}: {trimmed}"));
                }
            }
        }

        return uses;
    }

    /// <summary>
    /// The uses that <paramref name="allowed"/> (folder, the folders it may use) does not permit,
    /// one line per folder pair: <c>Outbox -> Health (OutboxMonitor uses HealthOptions)</c>.
    /// The root may use every folder; a folder missing from the table may use none.
    /// </summary>
    public static IReadOnlyList<string> Forbidden(IEnumerable<FolderUse> uses, IReadOnlyDictionary<string, string[]> allowed) =>
        [.. uses
            .Where(use => use.From != Root && use.From != use.To
                && !(allowed.TryGetValue(use.From, out var permitted) && permitted.Contains(use.To)))
            .GroupBy(use => (use.From, use.To))
            .OrderBy(group => group.Key.From, StringComparer.Ordinal).ThenBy(group => group.Key.To, StringComparer.Ordinal)
            .Select(group => $"{group.Key.From} -> {group.Key.To} ({string.Join("; ", group.Select(use => use.Evidence).Distinct().Order(StringComparer.Ordinal))})")];

    /// <summary>The folder and the name of the outermost type, for types of this service; null for any other.</summary>
    private static (string Folder, string Name)? Owner(TypeReference type)
    {
        while (type is TypeSpecification specification)
        {
            type = specification.ElementType;
        }

        if (type is GenericParameter)
        {
            return null;
        }

        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        if (type.Name == "<Module>" || type.Name.StartsWith("<PrivateImplementationDetails>", StringComparison.Ordinal))
        {
            return null;
        }

        var folder = type.Namespace.Length == 0 && type.Name != "Program" ? null : FolderOf(type.Namespace);
        if (folder is null)
        {
            return null;
        }

        var tick = type.Name.IndexOf('`', StringComparison.Ordinal);
        return (folder, tick < 0 ? type.Name : type.Name[..tick]);
    }

    private static void Collect(TypeDefinition type, HashSet<TypeReference> found)
    {
        Add(type.BaseType, found);
        foreach (var implemented in type.Interfaces)
        {
            Add(implemented.InterfaceType, found);
            Attributes(implemented.CustomAttributes, found);
        }

        Attributes(type.CustomAttributes, found);
        GenericParameters(type.GenericParameters, found);
        foreach (var field in type.Fields)
        {
            Add(field.FieldType, found);
            Attributes(field.CustomAttributes, found);
        }

        foreach (var property in type.Properties)
        {
            Add(property.PropertyType, found);
            Attributes(property.CustomAttributes, found);
        }

        foreach (var @event in type.Events)
        {
            Add(@event.EventType, found);
        }

        foreach (var method in type.Methods)
        {
            Method(method, found);
        }

        foreach (var nested in type.NestedTypes)
        {
            Collect(nested, found);
        }
    }

    private static void Method(MethodDefinition method, HashSet<TypeReference> found)
    {
        Add(method.ReturnType, found);
        Attributes(method.CustomAttributes, found);
        Attributes(method.MethodReturnType.CustomAttributes, found);
        GenericParameters(method.GenericParameters, found);
        foreach (var parameter in method.Parameters)
        {
            Add(parameter.ParameterType, found);
            Attributes(parameter.CustomAttributes, found);
        }

        if (!method.HasBody)
        {
            return;
        }

        foreach (var variable in method.Body.Variables)
        {
            Add(variable.VariableType, found);
        }

        foreach (var handler in method.Body.ExceptionHandlers)
        {
            Add(handler.CatchType, found);
        }

        foreach (var instruction in method.Body.Instructions)
        {
            switch (instruction.Operand)
            {
                case TypeReference operand:
                    Add(operand, found);
                    break;
                case MethodReference operand:
                    Member(operand, found);
                    break;
                case FieldReference operand:
                    Add(operand.DeclaringType, found);
                    Add(operand.FieldType, found);
                    break;
            }
        }
    }

    private static void Member(MethodReference method, HashSet<TypeReference> found)
    {
        Add(method.DeclaringType, found);
        Add(method.ReturnType, found);
        foreach (var parameter in method.Parameters)
        {
            Add(parameter.ParameterType, found);
        }

        if (method is GenericInstanceMethod generic)
        {
            foreach (var argument in generic.GenericArguments)
            {
                Add(argument, found);
            }
        }
    }

    private static void Attributes(IEnumerable<CustomAttribute> attributes, HashSet<TypeReference> found)
    {
        foreach (var attribute in attributes)
        {
            Add(attribute.AttributeType, found);
            foreach (var argument in attribute.ConstructorArguments.Concat(attribute.Properties.Select(p => p.Argument)))
            {
                Add(argument.Type, found);
                if (argument.Value is TypeReference typeArgument)
                {
                    Add(typeArgument, found);
                }
            }
        }
    }

    private static void GenericParameters(IEnumerable<GenericParameter> parameters, HashSet<TypeReference> found)
    {
        foreach (var parameter in parameters)
        {
            foreach (var constraint in parameter.Constraints)
            {
                Add(constraint.ConstraintType, found);
            }
        }
    }

    private static void Add(TypeReference? type, HashSet<TypeReference> found)
    {
        switch (type)
        {
            case null:
            case GenericParameter:
                return;
            case GenericInstanceType generic:
                Add(generic.ElementType, found);
                foreach (var argument in generic.GenericArguments)
                {
                    Add(argument, found);
                }

                return;
            case FunctionPointerType:
                return;
            case TypeSpecification specification:
                Add(specification.ElementType, found);
                return;
            default:
                found.Add(type);
                return;
        }
    }
}
